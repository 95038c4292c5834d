//! OSes with neither logind nor IOKit: nothing is done, and the status says so.

use crate::{AwakeError, Bus};

pub(crate) struct Lock;

pub(crate) async fn take(_bus: &Bus, _why: &str) -> Result<Lock, AwakeError> {
    Err(AwakeError::Unsupported)
}

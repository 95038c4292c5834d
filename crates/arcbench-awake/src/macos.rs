//! macOS: an IOKit power assertion of type `PreventUserIdleSystemSleep`.
//!
//! UNTESTED HERE: this project's machines are Linux, so this file has never been linked or run
//! (it was only type-checked on Linux with the cfgs swapped).
//! It follows Apple's documented C API (IOKit/pwr_mgt/IOPMLib.h) as directly as possible; check
//! it on a Mac before relying on it. Like logind's descriptor, an assertion dies with the process
//! that made it (powerd drops it), so kill -9 cannot leave the machine kept awake.

use std::ffi::{c_char, c_void, CString};

use crate::{AwakeError, Bus};

type CFStringRef = *const c_void;
type IOPMAssertionID = u32;
type IOReturn = i32;

const K_CF_STRING_ENCODING_UTF8: u32 = 0x0800_0100;
const K_IOPM_ASSERTION_LEVEL_ON: u32 = 255;
const K_IO_RETURN_SUCCESS: IOReturn = 0;
/// The value of the `kIOPMAssertionTypePreventUserIdleSystemSleep` CFSTR macro: keeps the system
/// from idle sleep; the display may still sleep.
const ASSERTION_TYPE: &str = "PreventUserIdleSystemSleep";

#[link(name = "CoreFoundation", kind = "framework")]
extern "C" {
    fn CFStringCreateWithCString(
        alloc: *const c_void,
        c_str: *const c_char,
        encoding: u32,
    ) -> CFStringRef;
    fn CFRelease(cf: *const c_void);
}

#[link(name = "IOKit", kind = "framework")]
extern "C" {
    fn IOPMAssertionCreateWithName(
        assertion_type: CFStringRef,
        level: u32,
        name: CFStringRef,
        id: *mut IOPMAssertionID,
    ) -> IOReturn;
    fn IOPMAssertionRelease(id: IOPMAssertionID) -> IOReturn;
}

/// A held assertion; dropping it releases.
pub(crate) struct Lock {
    id: IOPMAssertionID,
}

impl Drop for Lock {
    fn drop(&mut self) {
        // SAFETY: `id` came from a successful IOPMAssertionCreateWithName and is released once.
        unsafe {
            IOPMAssertionRelease(self.id);
        }
    }
}

/// An owned CFString, released on drop.
struct CfString(CFStringRef);

impl CfString {
    fn new(s: &str) -> Option<CfString> {
        let c = CString::new(s.replace('\0', " ")).ok()?;
        // SAFETY: `c` is a valid NUL-terminated string for the duration of the call.
        let r = unsafe {
            CFStringCreateWithCString(std::ptr::null(), c.as_ptr(), K_CF_STRING_ENCODING_UTF8)
        };
        (!r.is_null()).then_some(CfString(r))
    }
}

impl Drop for CfString {
    fn drop(&mut self) {
        // SAFETY: created by CFStringCreateWithCString (a +1 reference), released once.
        unsafe { CFRelease(self.0) }
    }
}

pub(crate) async fn take(_bus: &Bus, why: &str) -> Result<Lock, AwakeError> {
    let kind = CfString::new(ASSERTION_TYPE).ok_or(AwakeError::PowerAssertion(-1))?;
    let name = CfString::new(why).ok_or(AwakeError::PowerAssertion(-1))?;
    let mut id: IOPMAssertionID = 0;
    // SAFETY: both CFStrings are live; `id` is a valid out-pointer.
    let rc =
        unsafe { IOPMAssertionCreateWithName(kind.0, K_IOPM_ASSERTION_LEVEL_ON, name.0, &mut id) };
    if rc != K_IO_RETURN_SUCCESS {
        return Err(AwakeError::PowerAssertion(rc));
    }
    Ok(Lock { id })
}

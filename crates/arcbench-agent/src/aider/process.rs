//! The bridge runs in a process group of its own, so everything it starts (Aider's git
//! subprocesses, tokenizer threads' helpers) goes when the session's agent goes.

pub struct ProcessGroup(i32);

impl ProcessGroup {
    pub fn new(pid: u32) -> Self {
        ProcessGroup(pid as i32)
    }

    pub fn id(&self) -> u32 {
        self.0 as u32
    }

    /// SIGINT to the group: the bridge treats it as "cancel the running prompt".
    pub fn interrupt(&self) {
        self.signal(libc::SIGINT);
    }

    fn signal(&self, sig: i32) {
        if self.0 > 0 {
            // SAFETY: killpg only sends a signal; a stale group id fails with ESRCH, which is fine.
            unsafe {
                libc::killpg(self.0, sig);
            }
        }
    }
}

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        self.signal(libc::SIGKILL);
    }
}

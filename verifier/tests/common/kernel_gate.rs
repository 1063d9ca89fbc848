//! The one gate every kernel test passes: the kernel must be able to load
//! filters, and the kernel oracle must run here (Linux on x86-64). If not
//! (the JIT allocator deadlock described in `seccheck::kernel::health`), the
//! test is recorded as skipped (`seccheck::testgen::skip`: counted and named
//! by `.ci/run`, a failure under `SECCHECK_REQUIRE_KERNEL=1`) and returns
//! instead of hanging forever.

use seccheck::testgen::skip::{skip, Need};

pub fn kernel_usable() -> bool {
    if !cfg!(all(target_os = "linux", target_arch = "x86_64")) {
        skip(Need::Kernel, "the kernel oracle runs only on Linux x86-64");
        return false;
    }
    match seccheck::kernel::health::check() {
        Ok(()) => true,
        Err(e) => {
            skip(Need::Kernel, &e.to_string());
            false
        }
    }
}

//! What a filter costs per syscall, computed from the program alone: the
//! instructions it executes ([`paths`]), whether the kernel's constant-action
//! cache skips it ([`cache`]), and both together for every syscall ([`per_syscall`]).
//! Turning instructions into nanoseconds needs measurements: see
//! `crate::overhead`.

pub mod cache;
pub mod paths;
pub mod per_syscall;

pub use cache::{ActionCache, CacheGeometry, CachedAbi};
pub use paths::{path_bounds, PathBounds, Ret};
pub use per_syscall::CostTable;

//! What a filter costs per syscall, computed from the program alone: the
//! instructions it executes ([`paths`]), whether the kernel's constant-action
//! cache skips it ([`cache`]), and both together for every syscall ([`table`]).
//! Turning instructions into nanoseconds needs measurements: see
//! `crate::overhead`.

pub mod cache;
pub mod paths;
pub mod table;

pub use cache::{ActionCache, CacheGeometry, CachedAbi};
pub use paths::{path_bounds, PathBounds, Ret};
pub use table::CostTable;

//! What a filter costs per syscall, computed from the program alone: the
//! instructions it executes ([`paths`]), whether the kernel's constant-action
//! cache skips it ([`cache`]), and the cost table and linear model that turn
//! both into nanoseconds ([`table`], [`model`]).

pub mod cache;
pub mod paths;

pub use cache::{ActionCache, CacheGeometry, CachedAbi};
pub use paths::{path_bounds, PathBounds, Ret};

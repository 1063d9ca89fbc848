//! Each lint firing and not firing on small hand-written filters.

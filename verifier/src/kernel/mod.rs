//! The only place with `unsafe`: talking to the running kernel (installing
//! filters, reading them back). Each `unsafe` block says why it is sound.

pub mod readback;
pub mod environment;
pub mod overhead;

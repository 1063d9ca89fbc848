//! Kernel overhead suite (issue 7) and shared bench inputs.

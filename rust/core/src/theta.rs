//! Theta sketch (in progress).

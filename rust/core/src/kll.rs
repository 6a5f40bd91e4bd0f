//! KLL quantiles sketch (in progress).

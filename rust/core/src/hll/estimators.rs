//! HyperLogLog estimators and tables (in progress).

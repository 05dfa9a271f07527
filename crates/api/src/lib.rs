//! tandem-api

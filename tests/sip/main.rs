//! SIP signalling tests: parser against the RFC 4475 torture corpus.
mod torture;

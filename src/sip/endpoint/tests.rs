//! Endpoint tests on a fake clock: whole calls, registrations and failures driven through the
//! sans-IO endpoint with no sockets.

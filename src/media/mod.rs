//! Media plane: SDP offer/answer, RTP/RTCP, the RTP port pool, G.711,
//! RFC 4733 DTMF, the prompt player, bridging/mixing and the recorder.
//!
//! Code in the packet path must not block on I/O or allocate per packet.

pub mod g711;

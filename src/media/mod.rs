//! Media plane (DESIGN.md `media/`): SDP offer/answer, RTP/RTCP, the RTP port pool, G.711,
//! RFC 4733 DTMF, the prompt player, bridging/mixing and the recorder. Code in the packet path
//! does not block on I/O and does not allocate per packet. `engine` runs it on sharded threads;
//! the rest are pure pieces it is built from. docs/media.md describes the whole.

pub mod dtmf;
pub mod engine;
pub mod g711;
pub mod prompt;
pub mod recorder;
pub mod rtp;
pub mod sdp;

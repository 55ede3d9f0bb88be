//! Media plane (DESIGN.md `media/`): SDP offer/answer, RTP/RTCP, G.711, RFC 4733 DTMF,
//! prompts, the bridge and the recorder. Everything here is sans-IO: no blocking I/O, and no
//! per-packet allocation in the packet path.

pub mod dtmf;

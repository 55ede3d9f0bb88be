//! Sending from a shard: relaying a packet to the bridged leg (header rewritten, payload
//! transcoded), sending one packet from a stream's socket (connected once latched), the
//! RFC 4733 digits we generate, and dissolving a socket's association.

use std::os::fd::RawFd;
use std::time::{Duration, Instant};

use super::shard::Slot;
use super::stream::transcode;
use crate::media::dtmf::{DtmfSender, PAYLOAD_LEN};
use crate::media::rtp::HEADER_LEN;

/// Length of one DTMF key press we send, and the pause after it.
pub(super) const DTMF_TONE: Duration = Duration::from_millis(100);
const DTMF_GAP: Duration = Duration::from_millis(60);

/// Relays a packet received on the other leg to `target`: new header (its SSRC, sequence
/// and timestamp line), payload transcoded when the codecs differ, telephone-events with the
/// target's payload type (`codec` None).
pub(super) fn relay(
    target: &mut Slot,
    header: &crate::media::rtp::RtpHeader,
    payload: &[u8],
    codec: Option<crate::media::sdp::G711>,
    now: Instant,
    out: &mut [u8; 2048],
) {
    if !target.s.sends() || target.s.dtmf_out.is_some() {
        return;
    }
    let (pt, len) = match codec {
        None => {
            let Some(pt) = target.s.dtmf_pt() else { return };
            let len = payload.len().min(out.len() - HEADER_LEN);
            out[HEADER_LEN..HEADER_LEN + len].copy_from_slice(&payload[..len]);
            (pt, len)
        }
        Some(from) => {
            let to = target.s.codec();
            let len = transcode(from, to, payload, &mut out[HEADER_LEN..]);
            (to.payload_type(), len)
        }
    };
    let h = target.s.out.relay(header, pt, now);
    h.write(&mut out[..]);
    send(target, &out[..HEADER_LEN + len], h.timestamp, len);
}

/// Sends one RTP packet from the slot's socket to its destination.
pub(super) fn send(slot: &mut Slot, packet: &[u8], ts: u32, payload_len: usize) {
    let Some(dest) = slot.s.destination() else {
        return;
    };
    if slot.connected.is_none() && slot.s.latched == Some(dest) && slot.rtp.connect(dest).is_ok() {
        slot.connected = Some(dest);
    }
    let sent = if slot.connected == Some(dest) {
        slot.rtp.send(packet)
    } else {
        slot.rtp.send_to(packet, dest)
    };
    match sent {
        Ok(_) => {
            slot.s.counters.tx_packets += 1;
            slot.s.out.sent(payload_len);
            slot.s.rtcp.on_rtp_sent(ts, payload_len);
        }
        Err(_) => slot.s.counters.tx_errors += 1,
    }
}

/// Dissolves a UDP socket's association (connect to AF_UNSPEC, as connect(2) describes), so
/// that it receives from anyone again.
pub(super) fn disconnect(fd: RawFd) {
    // SAFETY: a zeroed sockaddr with family AF_UNSPEC is a valid argument for connect(2) on a
    // UDP socket; the pointer and length describe that local value.
    unsafe {
        let mut addr: libc::sockaddr = std::mem::zeroed();
        addr.sa_family = libc::AF_UNSPEC as libc::sa_family_t;
        libc::connect(
            fd,
            &addr,
            std::mem::size_of::<libc::sockaddr>() as libc::socklen_t,
        );
    }
}

/// Sends the RFC 4733 packets of the digit being sent that are due at `at`.
pub(super) fn send_dtmf(slot: &mut Slot, at: Instant, out: &mut [u8; 2048]) {
    loop {
        let Some(pt) = slot.s.dtmf_pt() else {
            slot.s.dtmf_out = None;
            return;
        };
        let Some(d) = slot.s.dtmf_out.as_mut() else {
            return;
        };
        let next = d.sender.clone().next();
        match next {
            Some(p) if d.started + p.send_at <= at => {
                d.sender.next();
                let first = std::mem::replace(&mut d.first, false);
                let h = slot.s.out.local_event(pt, first, at);
                h.write(&mut out[..]);
                out[HEADER_LEN..HEADER_LEN + PAYLOAD_LEN].copy_from_slice(&p.payload);
                send(
                    slot,
                    &out[..HEADER_LEN + PAYLOAD_LEN],
                    h.timestamp,
                    PAYLOAD_LEN,
                );
            }
            Some(_) => return,
            None => {
                // Digit done: the next one after a pause.
                if at < d.started + DTMF_TONE + DTMF_GAP {
                    return;
                }
                match d.queue.pop_front() {
                    Some(digit) => {
                        d.sender = DtmfSender::new(
                            digit,
                            DTMF_TONE,
                            0,
                            0,
                            &super::stream::dtmf_sender_config(),
                        );
                        d.started = at;
                        d.first = true;
                    }
                    None => {
                        slot.s.dtmf_out = None;
                        return;
                    }
                }
            }
        }
    }
}

//! The SDP the endpoint answers with until the media engine exists (issue 4): an audio stream
//! with G.711 (PCMU or PCMA, whichever the offer lists first) and telephone-event, marked
//! `inactive` — the call is set up and held, no media flows. An offer without either codec is
//! refused (488). Issue 4 replaces this with real offer/answer and RTP ports.

/// The answer to an INVITE's (or re-INVITE's) SDP offer; for an INVITE without a body (a late
/// offer) our offer instead.
pub(super) fn answer_for(
    req: &crate::sip::message::Message,
    host: &str,
) -> Result<Vec<u8>, &'static str> {
    if req.body.is_empty() {
        return offer(host);
    }
    let content_type = req.header("Content-Type").unwrap_or("application/sdp");
    if !content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .eq_ignore_ascii_case("application/sdp")
    {
        return Err("Not Acceptable Here (only application/sdp bodies)");
    }
    let text =
        std::str::from_utf8(&req.body).map_err(|_| "Not Acceptable Here (SDP is not UTF-8)")?;
    let audio = text
        .lines()
        .find(|l| l.starts_with("m=audio "))
        .ok_or("Not Acceptable Here (no audio stream)")?;
    let codec = audio
        .split_whitespace()
        .skip(3)
        .find_map(|pt| match pt {
            "0" => Some(0u8),
            "8" => Some(8u8),
            _ => None,
        })
        .ok_or("Not Acceptable Here (no common codec: PCMU or PCMA)")?;
    Ok(render(host, codec))
}

/// Our offer: PCMU and PCMA.
pub(super) fn offer(host: &str) -> Result<Vec<u8>, &'static str> {
    Ok(render(host, 0))
}

fn render(host_port: &str, codec: u8) -> Vec<u8> {
    let host = host_port
        .rsplit_once(':')
        .map(|(h, _)| h)
        .unwrap_or(host_port)
        .trim_start_matches('[')
        .trim_end_matches(']');
    let family = if host.contains(':') { "IP6" } else { "IP4" };
    let name = if codec == 0 { "PCMU" } else { "PCMA" };
    format!(
        "v=0\r\no=hotline 1 1 IN {family} {host}\r\ns=hotline\r\nc=IN {family} {host}\r\nt=0 0\r\n\
         m=audio 9 RTP/AVP {codec} 101\r\na=rtpmap:{codec} {name}/8000\r\n\
         a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=inactive\r\n"
    )
    .into_bytes()
}

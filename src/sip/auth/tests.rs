use std::time::{Duration, Instant};

use super::*;

/// RFC 7616 §3.9.1: user Mufasa, password "Circle of Life", GET /dir/index.html.
const REALM: &str = "http-auth@example.org";
const NONCE: &str = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v";
const CNONCE: &str = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";
const OPAQUE: &str = "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS";
const MD5_RESPONSE: &str = "8ca523f5e9506fed4657c9700eebdbec";
const SHA256_RESPONSE: &str = "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1";

fn rfc7616_authorization(alg: &str, response: &str) -> String {
    format!(
        "Digest username=\"Mufasa\",\r\n realm=\"{REALM}\",\r\n uri=\"/dir/index.html\",\r\n \
         algorithm={alg},\r\n nonce=\"{NONCE}\",\r\n nc=00000001,\r\n cnonce=\"{CNONCE}\",\r\n \
         qop=auth,\r\n response=\"{response}\",\r\n opaque=\"{OPAQUE}\""
    )
}

fn rfc7616_challenge(alg: &str) -> String {
    format!(
        "Digest realm=\"{REALM}\", qop=\"auth, auth-int\", algorithm={alg}, nonce=\"{NONCE}\", \
         opaque=\"{OPAQUE}\""
    )
}

#[test]
fn rfc7616_vectors_verify() {
    let ha1 = Ha1::from_password("Mufasa", REALM, "Circle of Life");
    for (alg, response) in [("MD5", MD5_RESPONSE), ("SHA-256", SHA256_RESPONSE)] {
        let creds = Credentials::parse(&rfc7616_authorization(alg, response)).unwrap();
        assert_eq!(creds.username, "Mufasa");
        assert_eq!(creds.uri, "/dir/index.html");
        assert_eq!(creds.nc_value(), Some(1));
        assert_eq!(creds.opaque.as_deref(), Some(OPAQUE));
        assert!(verify(&creds, "GET", &ha1), "{alg}");
        assert!(!verify(&creds, "POST", &ha1), "{alg} with another method");
        let wrong = Ha1::from_password("Mufasa", REALM, "Circle of life");
        assert!(
            !verify(&creds, "GET", &wrong),
            "{alg} with a wrong password"
        );
    }
}

#[test]
fn rfc7616_vectors_respond() {
    for (alg, response) in [("MD5", MD5_RESPONSE), ("SHA-256", SHA256_RESPONSE)] {
        let auth = respond(
            &rfc7616_challenge(alg),
            "GET",
            "/dir/index.html",
            "Mufasa",
            "Circle of Life",
            CNONCE,
            1,
        )
        .unwrap();
        let creds = Credentials::parse(&auth).unwrap();
        assert_eq!(creds.response, response, "{alg}");
        assert_eq!(creds.qop.as_deref(), Some("auth"));
        assert_eq!(creds.nc.as_deref(), Some("00000001"));
        assert_eq!(creds.opaque.as_deref(), Some(OPAQUE));
    }
}

/// RFC 2617 §3.5 (MD5, qop=auth, unquoted nc and qop).
#[test]
fn rfc2617_vector() {
    let v = "Digest username=\"Mufasa\", realm=\"testrealm@host.com\", \
             nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", uri=\"/dir/index.html\", qop=auth, \
             nc=00000001, cnonce=\"0a4f113b\", response=\"6629fae49393a05397450978507c4ef1\", \
             opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"";
    let creds = Credentials::parse(v).unwrap();
    assert_eq!(creds.algorithm, Algorithm::Md5);
    let ha1 = Ha1::from_password("Mufasa", "testrealm@host.com", "Circle Of Life");
    assert!(verify(&creds, "GET", &ha1));
}

#[test]
fn hmac_rfc4231_vectors() {
    assert_eq!(
        hex(&hmac_sha256(&[0x0b; 20], &[b"Hi ", b"There"])),
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
    );
    assert_eq!(
        hex(&hmac_sha256(
            &[0xaa; 131],
            &[b"Test Using Larger Than Block-Size Key - Hash Key First"]
        )),
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
    );
}

#[test]
fn parse_forms() {
    // Unquoted values, odd order, extra white space, unknown parameters, lower-case scheme.
    let v = "digest   response = abcdef ,uri=sip:example.com,nonce=n1=,realm = \"r\\\"x\" ,\
             username=\"a\\\\b\", foo=\"bar, baz\", algorithm=sha-256";
    let c = Credentials::parse(v).unwrap();
    assert_eq!(c.username, "a\\b");
    assert_eq!(c.realm, "r\"x");
    assert_eq!(c.nonce, "n1=");
    assert_eq!(c.uri, "sip:example.com");
    assert_eq!(c.response, "abcdef");
    assert_eq!(c.algorithm, Algorithm::Sha256);
    assert_eq!(c.qop, None);

    assert_eq!(
        Credentials::parse("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="),
        Err(AuthError::NotDigest)
    );
    assert_eq!(
        Credentials::parse("Digest realm=\"r\", nonce=\"n\", uri=\"u\", response=\"x\""),
        Err(AuthError::Missing("username"))
    );
    assert!(matches!(
        Credentials::parse("Digest username=a, username=b, realm=r, nonce=n, uri=u, response=x"),
        Err(AuthError::Duplicate(_))
    ));
    assert_eq!(
        Credentials::parse("Digest username=a, realm=r, nonce=n, uri=u, response=x, qop=auth"),
        Err(AuthError::Missing("cnonce"))
    );
    assert_eq!(
        Credentials::parse(
            "Digest username=a, realm=r, nonce=n, uri=u, response=x, qop=auth, cnonce=c, nc=1"
        ),
        Err(AuthError::Missing("nc"))
    );
    assert!(matches!(
        Credentials::parse(
            "Digest username=a, realm=r, nonce=n, uri=u, response=x, algorithm=SHA-512-256"
        ),
        Err(AuthError::UnsupportedAlgorithm(_))
    ));
    assert!(matches!(
        Credentials::parse(
            "Digest username=a, realm=r, nonce=n, uri=u, response=x, qop=auth-int, cnonce=c, \
             nc=00000001"
        ),
        Err(AuthError::UnsupportedQop(_))
    ));
    assert!(Credentials::parse("Digest username=\"unterminated").is_err());
    assert!(Credentials::parse("Digest").is_err());
}

#[test]
fn round_trips_every_algorithm_and_form() {
    let realm = "hotline.example";
    let ha1 = Ha1::from_password("1001", realm, "s3cret");
    for alg in [
        Algorithm::Md5,
        Algorithm::Md5Sess,
        Algorithm::Sha256,
        Algorithm::Sha256Sess,
    ] {
        for qop in [true, false] {
            let ch = Challenge {
                realm: realm.into(),
                nonce: "abc".into(),
                opaque: None,
                algorithm: alg,
                qop: if qop { vec!["auth".into()] } else { vec![] },
                stale: false,
            };
            let auth = respond(
                &ch.to_string(),
                "REGISTER",
                "sip:hotline.example",
                "1001",
                "s3cret",
                "cn",
                7,
            )
            .unwrap();
            let creds = Credentials::parse(&auth).unwrap();
            assert_eq!(creds.algorithm, alg);
            assert_eq!(creds.qop.is_some(), qop);
            assert!(verify(&creds, "REGISTER", &ha1), "{alg} qop={qop}");
            assert!(!verify(&creds, "INVITE", &ha1), "{alg} qop={qop}");
            let bad = respond(
                &ch.to_string(),
                "REGISTER",
                "sip:hotline.example",
                "1001",
                "wrong",
                "cn",
                7,
            )
            .unwrap();
            assert!(!verify(
                &Credentials::parse(&bad).unwrap(),
                "REGISTER",
                &ha1
            ));
        }
    }
}

#[test]
fn ha1_families_and_hex() {
    let full = Ha1::from_password("u", "r", "p");
    let md5_only = Ha1::from_hex(full.md5.as_deref(), None).unwrap();
    let upper = full.sha256.as_deref().unwrap().to_ascii_uppercase();
    let sha_only = Ha1::from_hex(None, Some(&upper)).unwrap();
    assert_eq!(sha_only.sha256, full.sha256);
    assert!(Ha1::from_hex(Some("abc"), None).is_err());
    assert!(Ha1::from_hex(None, None).is_err());
    assert!(!format!("{full:?}").contains(full.md5.as_deref().unwrap()));

    let ch = challenges("r", "n", "o", false);
    let sha = respond(&ch[0].to_string(), "REGISTER", "sip:r", "u", "p", "c", 1).unwrap();
    let md5 = respond(&ch[1].to_string(), "REGISTER", "sip:r", "u", "p", "c", 1).unwrap();
    let (sha, md5) = (
        Credentials::parse(&sha).unwrap(),
        Credentials::parse(&md5).unwrap(),
    );
    assert!(verify(&md5, "REGISTER", &md5_only));
    assert!(!verify(&sha, "REGISTER", &md5_only));
    assert!(verify(&sha, "REGISTER", &sha_only));
    assert!(!verify(&md5, "REGISTER", &sha_only));
}

#[test]
fn challenge_rendering_and_choice() {
    let [sha, md5] = challenges("hotline", "n0", "op", true);
    assert_eq!(
        sha.to_string(),
        "Digest realm=\"hotline\", nonce=\"n0\", opaque=\"op\", algorithm=SHA-256, \
         qop=\"auth\", stale=true"
    );
    assert_eq!(md5.algorithm, Algorithm::Md5);
    assert_eq!(Challenge::parse(&sha.to_string()).unwrap(), sha);

    let (s, m) = (sha.to_string(), md5.to_string());
    let other = "Digest realm=\"x\", nonce=\"y\", algorithm=SHA-512-256";
    assert_eq!(
        pick_challenge([other, m.as_str(), s.as_str()]),
        Some(s.as_str())
    );
    assert_eq!(pick_challenge([other, m.as_str()]), Some(m.as_str()));
    assert_eq!(pick_challenge(["Basic realm=\"x\""]), None);
    let auth_int = "Digest realm=\"x\", nonce=\"y\", qop=\"auth-int\"";
    assert_eq!(pick_challenge([auth_int]), None);
    assert!(matches!(
        respond(auth_int, "REGISTER", "sip:x", "u", "p", "c", 1),
        Err(AuthError::UnsupportedQop(_))
    ));
}

#[test]
fn nonces_fresh_stale_invalid() {
    let t0 = Instant::now();
    let nonces = Nonces::new(b"secret", t0).with_lifetime(Duration::from_secs(300));
    let n = nonces.issue(t0 + Duration::from_secs(10));
    assert_eq!(n.len(), 64);
    assert_ne!(n, nonces.issue(t0 + Duration::from_secs(10)));
    let at = |s: u64| t0 + Duration::from_secs(s);
    assert_eq!(nonces.verify_nonce(&n, at(10)), NonceStatus::Fresh);
    assert_eq!(nonces.verify_nonce(&n, at(310)), NonceStatus::Fresh);
    assert_eq!(
        nonces.verify_nonce(&n, at(310) + Duration::from_millis(1)),
        NonceStatus::Stale
    );
    assert_eq!(
        nonces.verify_nonce(&n.to_uppercase(), at(20)),
        NonceStatus::Fresh
    );

    // Another secret, a tampered timestamp or MAC, junk: all invalid.
    let other = Nonces::new(b"other", t0);
    assert_eq!(other.verify_nonce(&n, at(10)), NonceStatus::Invalid);
    let mut tampered = n.clone().into_bytes();
    tampered[15] = if tampered[15] == b'0' { b'1' } else { b'0' };
    let tampered = String::from_utf8(tampered).unwrap();
    assert_eq!(nonces.verify_nonce(&tampered, at(10)), NonceStatus::Invalid);
    let mut bad_mac = n.clone();
    bad_mac.replace_range(63.., if n.ends_with('0') { "1" } else { "0" });
    assert_eq!(nonces.verify_nonce(&bad_mac, at(10)), NonceStatus::Invalid);
    assert_eq!(nonces.verify_nonce("xyz", at(10)), NonceStatus::Invalid);
    assert_eq!(nonces.verify_nonce(NONCE, at(10)), NonceStatus::Invalid);
    // Issued "in the future" (another epoch): invalid.
    let later = Nonces::new(b"secret", t0 + Duration::from_secs(100));
    let n2 = later.issue(t0 + Duration::from_secs(200));
    assert_eq!(nonces.verify_nonce(&n2, at(50)), NonceStatus::Invalid);
    assert_eq!(nonces.opaque(), Nonces::new(b"secret", t0).opaque());
    assert_ne!(nonces.opaque(), other.opaque());
}

#[test]
fn nonce_counts_increase_and_are_forgotten() {
    let t0 = Instant::now();
    let at = |s: u64| t0 + Duration::from_secs(s);
    let mut nonces = Nonces::new(b"k", t0).with_lifetime(Duration::from_secs(60));
    let a = nonces.issue(at(0));
    let b = nonces.issue(at(5));
    assert!(nonces.accept_count(&a, 1, at(1)));
    assert!(!nonces.accept_count(&a, 1, at(2)));
    assert!(nonces.accept_count(&a, 3, at(2)));
    assert!(!nonces.accept_count(&a, 2, at(3)));
    assert!(nonces.accept_count(&b, 1, at(6)));
    assert_eq!(nonces.tracked(), 2);
    nonces.prune(at(61));
    assert_eq!(nonces.tracked(), 1);
    nonces.prune(at(66));
    assert_eq!(nonces.tracked(), 0);
}

#[test]
fn nonce_tracking_cap_makes_forgotten_nonces_stale() {
    let t0 = Instant::now();
    let at = |ms: u64| t0 + Duration::from_millis(ms);
    let mut nonces = Nonces::new(b"k", t0).with_max_tracked(2);
    let ns: Vec<String> = (0..3).map(|i| nonces.issue(at(i))).collect();
    for n in &ns {
        assert!(nonces.accept_count(n, 1, at(10)));
    }
    assert_eq!(nonces.tracked(), 2);
    assert_eq!(nonces.verify_nonce(&ns[0], at(10)), NonceStatus::Stale);
    assert_eq!(nonces.verify_nonce(&ns[1], at(10)), NonceStatus::Fresh);
    assert!(!nonces.accept_count(&ns[2], 1, at(11)));
}

#[test]
fn constant_time_eq_basics() {
    assert!(constant_time_eq(b"abc", b"abc"));
    assert!(!constant_time_eq(b"abc", b"abd"));
    assert!(!constant_time_eq(b"abc", b"ab"));
}

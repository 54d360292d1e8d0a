use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use chrono::TimeZone;
use proptest::prelude::*;

use super::*;

#[test]
fn every_action_is_named_as_serde_writes_it() {
    for action in Action::ALL {
        assert_eq!(serde_json::to_value(action).unwrap(), action.name());
    }
    assert!(event_types().contains(&"seats.exhausted"));
    assert!(!event_types().contains(&"webhook.test"));
}

#[test]
fn a_url_names_a_public_host_by_dns_name_over_https() {
    for ok in [
        "https://hooks.example.com/licensing",
        "https://hooks.example.com:8443/in?x=1",
        "https://hooks.example.com./in",
        "https://xn--bcher-kva.example/in",
    ] {
        assert!(check_url(ok, false).is_ok(), "{ok}");
    }
    let refused = [
        "http://hooks.example.com/in",
        "ftp://hooks.example.com/in",
        "https://127.0.0.1/in",
        "https://2130706433/in",
        "https://0x7f000001/in",
        "https://0177.0.0.1/in",
        "https://127.1/in",
        "https://0x7f.0.0.1/in",
        "https://[::1]/in",
        "https://[::ffff:127.0.0.1]/in",
        "https://[64:ff9b::7f00:1]/in",
        "https://[2002:7f00:1::]/in",
        "https://169.254.169.254/latest/meta-data",
        "https://localhost/in",
        "https://api.localhost/in",
        "https://intranet/in",
        "https://user:pw@hooks.example.com/in",
        "https://user@hooks.example.com/in",
        "https://hooks.example.com:80/in",
        "https://hooks.example.com:1023/in",
        "https://hooks.example.com/in#frag",
        "hooks.example.com/in",
        "",
    ];
    for bad in refused {
        assert!(check_url(bad, false).is_err(), "{bad}");
    }
    let long = format!("https://hooks.example.com/{}", "a".repeat(MAX_URL_LEN));
    assert_eq!(check_url(&long, false).unwrap_err(), "must be at most 2048 characters");
}

#[test]
fn only_local_builds_take_the_loopback_address_over_http() {
    assert!(check_url("http://127.0.0.1:8088/hook", true).is_ok());
    assert!(check_url("http://127.0.0.1:8088/hook", false).is_err());
    // Not another loopback address, and not without a port.
    assert!(check_url("http://127.0.0.2:8088/hook", true).is_err());
    assert!(check_url("http://127.0.0.1/hook", true).is_err());
    assert!(check_url("http://localhost:8088/hook", true).is_err());
}

#[test]
fn addresses_outside_the_public_internet_are_blocked() {
    let blocked = [
        "0.0.0.0",
        "10.1.2.3",
        "100.64.0.1",
        "100.127.255.255",
        "127.0.0.1",
        "169.254.169.254",
        "172.16.0.1",
        "172.31.255.255",
        "192.0.0.8",
        "192.0.2.1",
        "192.168.1.1",
        "198.18.0.1",
        "198.51.100.1",
        "203.0.113.9",
        "224.0.0.1",
        "239.255.255.250",
        "240.0.0.1",
        "255.255.255.255",
        "::",
        "::1",
        "::ffff:10.0.0.1",
        "::ffff:169.254.169.254",
        "64:ff9b::a00:1",
        "64:ff9b:1::1",
        "100::1",
        "2001::1",
        "2001:db8::1",
        "2002:a00:1::1",
        "fc00::1",
        "fd12:3456::1",
        "fe80::1",
        "fec0::1",
        "ff02::1",
        "3fff::1",
    ];
    for ip in blocked {
        assert!(is_blocked(ip.parse().unwrap()), "{ip}");
    }
    let public = [
        "8.8.8.8",
        "1.1.1.1",
        "100.128.0.1",
        "172.32.0.1",
        "2606:4700:4700::1111",
        "2a00:1450:4001:80b::200e",
        "::ffff:8.8.8.8",
    ];
    for ip in public {
        assert!(!is_blocked(ip.parse().unwrap()), "{ip}");
    }
}

proptest! {
    /// An IPv4 address and its IPv4-mapped IPv6 form are judged alike.
    #[test]
    fn a_mapped_address_is_judged_as_its_ipv4(bits in any::<u32>()) {
        let v4 = Ipv4Addr::from(bits);
        prop_assert_eq!(is_blocked(IpAddr::V4(v4)), is_blocked(IpAddr::V6(v4.to_ipv6_mapped())));
    }

    /// Every address in the private, loopback, link-local and shared ranges
    /// is blocked, whatever its host part.
    #[test]
    fn whole_ranges_are_blocked(host in any::<u32>(), range in 0usize..6) {
        let (net, len) = [
            ([10, 0, 0, 0], 8), ([127, 0, 0, 0], 8), ([169, 254, 0, 0], 16),
            ([172, 16, 0, 0], 12), ([192, 168, 0, 0], 16), ([100, 64, 0, 0], 10),
        ][range];
        let mask = u32::MAX >> len;
        let ip = Ipv4Addr::from((u32::from(Ipv4Addr::from(net)) & !mask) | (host & mask));
        prop_assert!(is_blocked(IpAddr::V4(ip)));
    }

    /// Unique local and link-local IPv6 addresses are blocked, whatever follows.
    #[test]
    fn ipv6_private_ranges_are_blocked(rest in any::<u128>(), fe80 in any::<bool>()) {
        let (net, len) = if fe80 { (0xfe80u128 << 112, 10) } else { (0xfc00u128 << 112, 7) };
        let mask = u128::MAX >> len;
        let ip = Ipv6Addr::from((net & !mask) | (rest & mask));
        prop_assert!(is_blocked(IpAddr::V6(ip)));
    }
}

#[test]
fn the_signature_is_the_standard_webhooks_one() {
    // The Standard Webhooks specification's own example.
    let key = BASE64.decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
    let body = r#"{"test": 2432232314}"#;
    let signed =
        signature(std::slice::from_ref(&key), "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body);
    assert_eq!(signed, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    // Two secrets: two signatures, space-separated, newest first.
    let two = signature(&[vec![1; 32], key], "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body);
    assert_eq!(two.split(' ').nth(1), Some(signed.as_str()));
}

#[test]
fn a_secret_is_whsec_and_32_bytes_of_base64() {
    let (text, bytes) = new_webhook_secret().unwrap();
    assert_eq!(bytes.len(), 32);
    assert_eq!(BASE64.decode(text.strip_prefix("whsec_").unwrap()).unwrap(), bytes);
    assert_ne!(new_webhook_secret().unwrap().1, bytes);
}

#[test]
fn eight_attempts_on_the_contracts_schedule() {
    let at = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();
    let waits: Vec<i64> = (1..=ATTEMPTS)
        .map_while(|n| next_attempt(n, at, 1.0))
        .map(|t| (t - at).num_seconds())
        .collect();
    assert_eq!(waits, [5, 300, 1_800, 7_200, 18_000, 36_000, 36_000]);
    assert_eq!(next_attempt(ATTEMPTS, at, 1.0), None);
    assert_eq!(next_attempt(0, at, 1.0), None);
    // Scaled for local runs: 5 s at 1/100 is 50 ms.
    assert_eq!((next_attempt(1, at, 0.01).unwrap() - at).num_milliseconds(), 50);
}

#[test]
fn gone_disables_at_once_and_failures_after_three_days() {
    let at = Utc.with_ymd_and_hms(2026, 12, 4, 0, 0, 0).unwrap();
    let since = at - Duration::days(3);
    assert_eq!(disables(Outcome::Status(410), at, at), Some("gone"));
    assert_eq!(disables(Outcome::Status(500), at, at), None);
    assert_eq!(disables(Outcome::Timeout, since + Duration::seconds(1), at), None);
    assert_eq!(disables(Outcome::Connection, since, at), Some("failing"));
    assert_eq!(disables(Outcome::Status(204), since, at), None);
}

#[test]
fn outcomes_name_their_results() {
    assert!(Outcome::Status(204).succeeded());
    assert!(!Outcome::Status(301).succeeded());
    assert_eq!(result_value(&Outcome::Status(500).result()), serde_json::json!(500));
    assert_eq!(
        result_value(&Outcome::BlockedAddress.result()),
        serde_json::json!("blocked-address")
    );
}

#[test]
fn events_are_checked_against_the_known_types() {
    let change = |events: &[&str]| WebhookChange {
        events: Some(events.iter().map(|e| e.to_string()).collect()),
        ..WebhookChange::default()
    };
    assert!(change(&["*"]).check(false).is_ok());
    assert!(change(&["assignment.revoked", "seats.exhausted"]).check(false).is_ok());
    assert!(change(&[]).check(false).is_err());
    assert!(change(&["*", "assignment.revoked"]).check(false).is_err());
    assert!(change(&["webhook.test"]).check(false).is_err());
    assert!(change(&["assignment.deleted"]).check(false).is_err());
}

#[test]
fn a_seats_exhausted_entry_is_two_events_and_delivery_ids_map_back() {
    let at = Utc.with_ymd_and_hms(2026, 12, 1, 10, 0, 0).unwrap();
    let entry = Entry::on("cust-1", "lic_1", at, "system", Action::LicenseSeatsExhausted);
    let events = Event::of_entry(&entry, "prod-1");
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["license.seats-exhausted", "seats.exhausted"]);
    assert_eq!(events[1].id, format!("{}_seats", events[0].id));
    assert_eq!(events[0].timestamp, "2026-12-01T10:00:00.000Z");
    for e in &events {
        assert_eq!(event_of_delivery(&delivery_id(&e.id)).as_deref(), Some(e.id.as_str()));
    }
    assert_eq!(event_of_delivery("dlv_../x"), None);
    let body: serde_json::Value = serde_json::from_str(&events[0].body()).unwrap();
    assert_eq!(body["data"]["productId"], "prod-1");
    assert_eq!(body["data"].get("email"), None);
}

#[test]
fn free_slots_are_those_unleased_or_run_out() {
    let now: DateTime<Utc> = "2026-12-07T10:00:00Z".parse().unwrap();
    let ms = now.timestamp_millis();
    let mut w = Webhook {
        webhook_id: "wh_1".into(),
        customer_id: "cust-1".into(),
        url: "https://hooks.example.com/in".into(),
        events: vec!["*".into()],
        description: None,
        enabled: true,
        created_at: now,
        disabled_reason: None,
        disabled_at: None,
        secrets: vec![],
        slots: Default::default(),
        failing_since: None,
    };
    assert_eq!(w.free_slots(now).count(), IN_FLIGHT as usize);
    w.slots.insert("0".into(), ms + 1);
    w.slots.insert("3".into(), ms - 1);
    w.slots.insert("9".into(), ms);
    let free: Vec<String> = w.free_slots(now).collect();
    assert_eq!(free, ["1", "2", "3", "4", "5", "6", "7", "8"]);
}

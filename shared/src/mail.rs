//! The invitation mail, in English and German, as text and HTML. Pure: the
//! `notify` function only adds the addresses and sends it.

use chrono::NaiveDate;

use crate::model::Language;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mail {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// What the invitation says.
#[derive(Clone, Debug)]
pub struct Invitation<'a> {
    pub language: Language,
    pub product_name: &'a str,
    pub email: &'a str,
    pub valid_from: NaiveDate,
    pub valid_until: NaiveDate,
    pub portal_url: &'a str,
}

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn date(language: Language, d: NaiveDate) -> String {
    match language {
        Language::En => d.format("%-d %B %Y").to_string(),
        Language::De => d.format("%d.%m.%Y").to_string(),
    }
}

pub fn render(inv: &Invitation) -> Mail {
    let (from, until) = (date(inv.language, inv.valid_from), date(inv.language, inv.valid_until));
    let (subject, greeting, access, sign_in, user_name, closing) = match inv.language {
        Language::En => (
            format!("Your access to {}", inv.product_name),
            "Hello,",
            format!("you have been given access to {} from {from} to {until}.", inv.product_name),
            "Sign in to the portal:",
            format!("Your user name is your e-mail address: {}", inv.email),
            "Kind regards",
        ),
        Language::De => (
            format!("Ihr Zugang zu {}", inv.product_name),
            "Guten Tag,",
            format!(
                "Sie haben vom {from} bis zum {until} Zugang zu {} erhalten.",
                inv.product_name
            ),
            "Melden Sie sich im Portal an:",
            format!("Ihr Benutzername ist Ihre E-Mail-Adresse: {}", inv.email),
            "Freundliche Grüße",
        ),
    };
    compose(
        inv.language,
        subject,
        greeting,
        &access,
        (sign_in, inv.portal_url),
        &user_name,
        closing,
    )
}

/// The reminder to a person whose access ends while the licence goes on.
#[derive(Clone, Debug)]
pub struct AccessEnds<'a> {
    pub language: Language,
    pub product_name: &'a str,
    pub email: &'a str,
    pub valid_until: NaiveDate,
    pub portal_url: &'a str,
}

pub fn render_access_ends(r: &AccessEnds) -> Mail {
    let until = date(r.language, r.valid_until);
    let (subject, greeting, ends, sign_in, ask, closing) = match r.language {
        Language::En => (
            format!("Your access to {} ends on {until}", r.product_name),
            "Hello,",
            format!("your access to {} ends on {until}.", r.product_name),
            "Sign in to the portal:",
            format!(
                "If you still need it, ask your company's licence admin to extend it. Your user name is {}.",
                r.email
            ),
            "Kind regards",
        ),
        Language::De => (
            format!("Ihr Zugang zu {} endet am {until}", r.product_name),
            "Guten Tag,",
            format!("Ihr Zugang zu {} endet am {until}.", r.product_name),
            "Melden Sie sich im Portal an:",
            format!(
                "Wenn Sie ihn weiter brauchen, bitten Sie den Lizenzverwalter Ihres Unternehmens, ihn zu verlängern. Ihr Benutzername ist {}.",
                r.email
            ),
            "Freundliche Grüße",
        ),
    };
    compose(r.language, subject, greeting, &ends, (sign_in, r.portal_url), &ask, closing)
}

/// The reminder to the buyer of a licence whose term ends without renewal
/// (in English).
#[derive(Clone, Debug)]
pub struct TermEnds<'a> {
    pub product_name: &'a str,
    pub invoice_number: &'a str,
    pub end: NaiveDate,
    pub days: u64,
    /// The people who lose access when the term ends.
    pub losing: u32,
    pub portal_url: &'a str,
}

pub fn render_term_ends(r: &TermEnds) -> Mail {
    let end = date(Language::En, r.end);
    let subject = format!("Your {} licence ends in {} days, on {end}", r.product_name, r.days);
    let ends = format!(
        "your licence of {} (invoice {}) ends on {end} and does not renew.",
        r.product_name, r.invoice_number
    );
    let losing = match r.losing {
        0 => format!("Nobody loses access on {end}."),
        1 => format!("1 person loses access on {end}."),
        n => format!("{n} people lose access on {end}."),
    };
    let next = format!("{losing} To keep access, renew the licence before then.");
    let sign_in = ("Manage your licences in the portal:", r.portal_url);
    compose(Language::En, subject, "Hello,", &ends, sign_in, &next, "Kind regards")
}

/// A provisioning token created or revoked, told to the customer's buyers
/// (in English, as the buyers' reminders are).
#[derive(Clone, Debug)]
pub struct TokenMail<'a> {
    pub created: bool,
    pub name: &'a str,
    pub by: &'a str,
    pub at: chrono::DateTime<chrono::Utc>,
    pub last_day: NaiveDate,
    pub portal_url: &'a str,
}

pub fn render_token_mail(m: &TokenMail) -> Mail {
    let at = format!("{} at {} UTC", date(Language::En, m.at.date_naive()), m.at.format("%H:%M"));
    let (subject, first, second) = if m.created {
        (
            "A provisioning token was created for your company".to_string(),
            format!(
                "{} created the provisioning token \u{201c}{}\u{201d} on {at}. An identity provider that holds it can keep your people's licence access in step over SCIM, through {}.",
                m.by,
                m.name,
                date(Language::En, m.last_day)
            ),
            "If nobody meant to create it, revoke it now under Provisioning.".to_string(),
        )
    } else {
        (
            "A provisioning token was revoked".to_string(),
            format!(
                "{} revoked the provisioning token \u{201c}{}\u{201d} on {at}. It no longer works.",
                m.by, m.name
            ),
            "Nothing else is needed, unless this was not intended.".to_string(),
        )
    };
    let sign_in = ("Manage your licences and tokens in the portal:", m.portal_url);
    compose(Language::En, subject, "Hello,", &first, sign_in, &second, "Kind regards")
}

/// Reclaim of idle seats (v3), to the person: the warning (`use_by`: the
/// last day a use keeps the seat), or that the seat was freed (`use_by`:
/// `None`), in the person's invitation language.
#[derive(Clone, Debug)]
pub struct Idle<'a> {
    pub language: Language,
    pub product_name: &'a str,
    pub email: &'a str,
    /// The last day the person used it (`None`: never).
    pub last_used: Option<NaiveDate>,
    pub use_by: Option<NaiveDate>,
    pub portal_url: &'a str,
}

pub fn render_idle(r: &Idle) -> Mail {
    let (l, product) = (r.language, r.product_name);
    let used = match (l, r.last_used) {
        (Language::En, Some(day)) => format!("You last used it on {}.", date(l, day)),
        (Language::En, None) => "You have not used it yet.".to_string(),
        (Language::De, Some(day)) => format!("Sie haben es zuletzt am {} genutzt.", date(l, day)),
        (Language::De, None) => "Sie haben es noch nicht genutzt.".to_string(),
    };
    let (subject, first, sign_in, second, greeting, closing) = match (l, r.use_by) {
        (Language::En, Some(by)) => (
            format!("Your seat of {product} will be freed unless you use it by {}", date(l, by)),
            format!(
                "your company frees seats of {product} that nobody uses. {used} Unless you use it by {}, your seat returns to your company.",
                date(l, by)
            ),
            "Sign in to keep it:",
            format!("Your user name is {}.", r.email),
            "Hello,",
            "Kind regards",
        ),
        (Language::En, None) => (
            format!("Your access to {product} has ended"),
            format!(
                "your access to {product} has ended because it was not used; the seat returned to your company. {used}"
            ),
            "Sign in to the portal:",
            format!(
                "If you need it again, ask your company's licence admin. Your user name is {}.",
                r.email
            ),
            "Hello,",
            "Kind regards",
        ),
        (Language::De, Some(by)) => (
            format!(
                "Ihr Platz für {product} wird frei, wenn Sie ihn nicht bis zum {} nutzen",
                date(l, by)
            ),
            format!(
                "Ihr Unternehmen gibt ungenutzte Plätze für {product} frei. {used} Wenn Sie es nicht bis zum {} nutzen, geht Ihr Platz an Ihr Unternehmen zurück.",
                date(l, by)
            ),
            "Melden Sie sich an, um ihn zu behalten:",
            format!("Ihr Benutzername ist {}.", r.email),
            "Guten Tag,",
            "Freundliche Grüße",
        ),
        (Language::De, None) => (
            format!("Ihr Zugang zu {product} ist beendet"),
            format!(
                "Ihr Zugang zu {product} ist beendet, weil er nicht genutzt wurde; der Platz ging an Ihr Unternehmen zurück. {used}"
            ),
            "Melden Sie sich im Portal an:",
            format!(
                "Wenn Sie ihn wieder brauchen, wenden Sie sich an den Lizenzverwalter Ihres Unternehmens. Ihr Benutzername ist {}.",
                r.email
            ),
            "Guten Tag,",
            "Freundliche Grüße",
        ),
    };
    compose(l, subject, greeting, &first, (sign_in, r.portal_url), &second, closing)
}

/// To the buyer (v3): a committed change left no seat of the licence free
/// (in English, as the buyers' reminders are).
#[derive(Clone, Debug)]
pub struct SeatsExhausted<'a> {
    pub product_name: &'a str,
    pub invoice_number: &'a str,
    pub quantity: u32,
    pub portal_url: &'a str,
}

pub fn render_seats_exhausted(r: &SeatsExhausted) -> Mail {
    let subject = format!("All seats of {} are in use", r.product_name);
    let first = format!(
        "all {} seats of your licence of {} (invoice {}) are now in use, so nobody more can be assigned.",
        r.quantity, r.product_name, r.invoice_number
    );
    let second = "To make room, revoke seats nobody needs, turn on the reclaim of idle seats, or buy more seats.";
    let sign_in = ("Manage your licences in the portal:", r.portal_url);
    compose(Language::En, subject, "Hello,", &first, sign_in, second, "Kind regards")
}

/// To the buyer (v3): a linked group's members wait for a seat of the
/// licence; at most one a licence a day (in English, as the buyers'
/// reminders are).
#[derive(Clone, Debug)]
pub struct PeopleWaiting<'a> {
    pub product_name: &'a str,
    pub invoice_number: &'a str,
    pub waiting: u32,
    pub portal_url: &'a str,
}

pub fn render_people_waiting(r: &PeopleWaiting) -> Mail {
    let subject = format!("People are waiting for a seat of {}", r.product_name);
    let who = if r.waiting == 1 {
        "1 person is".to_string()
    } else {
        format!("{} people are", r.waiting)
    };
    let first = format!(
        "{who} waiting for a seat of your licence of {} (invoice {}): members of a group linked to it, for whom no seat was free. They get seats, first come first, as seats free up.",
        r.product_name, r.invoice_number
    );
    let second = "To seat them now, buy more seats, or revoke seats nobody needs.";
    let sign_in = ("See the waiting list in the portal:", r.portal_url);
    compose(Language::En, subject, "Hello,", &first, sign_in, second, "Kind regards")
}

/// The buyers' mail when deliveries disabled a webhook endpoint (v3).
pub fn render_webhook_disabled(w: &crate::model::WebhookDisabled, portal_url: &str) -> Mail {
    let subject = "A webhook endpoint was disabled".to_string();
    let why = if w.reason == "gone" {
        "it answered 410 Gone".to_string()
    } else {
        format!("every delivery to it failed for {} days", crate::model::FAILING_DAYS)
    };
    let first = format!(
        "your webhook endpoint {} was disabled on {} at {} UTC because {why}. It receives no events until it is enabled again; what it missed stays in its delivery log, from where it can be sent again.",
        w.url,
        date(Language::En, w.at.date_naive()),
        w.at.format("%H:%M")
    );
    let second = "Check the receiver, then enable the endpoint under Webhooks.";
    let sign_in = ("Manage your webhooks in the portal:", portal_url);
    compose(Language::En, subject, "Hello,", &first, sign_in, second, "Kind regards")
}

/// One seat a run freed, for the buyer's digest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Freed {
    pub product_name: String,
    pub invoice_number: String,
    pub email: String,
    pub last_used: Option<NaiveDate>,
}

/// The buyer's digest of the seats a run freed (in English, as the buyers'
/// reminders are).
pub fn render_reclaim_digest(freed: &[Freed], portal_url: &str) -> Mail {
    let l = Language::En;
    let subject = match freed.len() {
        1 => "1 unused seat was freed".to_string(),
        n => format!("{n} unused seats were freed"),
    };
    let lines: Vec<String> = freed
        .iter()
        .map(|f| {
            let used = f
                .last_used
                .map_or("never used".to_string(), |d| format!("last used {}", date(l, d)));
            format!("{} on {} (invoice {}), {used}", f.email, f.product_name, f.invoice_number)
        })
        .collect();
    let first = format!(
        "these seats returned to your company today because nobody used them after a warning: {}.",
        lines.join("; ")
    );
    let sign_in = ("Manage your licences in the portal:", portal_url);
    let second = "You can assign them again, or change the reclaim policy of each licence.";
    compose(l, subject, "Hello,", &first, sign_in, second, "Kind regards")
}

/// A mail of a greeting, a paragraph, a sign-in link, another paragraph and
/// a closing, as text and as HTML with every piece escaped.
fn compose(
    language: Language,
    subject: String,
    greeting: &str,
    first: &str,
    (sign_in, url): (&str, &str),
    second: &str,
    closing: &str,
) -> Mail {
    let text = format!("{greeting}\n\n{first}\n\n{sign_in} {url}\n{second}\n\n{closing}\n");
    let e = escape_html;
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"{lang}\"><head><meta charset=\"utf-8\"><title>{title}</title></head>\n<body>\n<p>{greeting}</p>\n<p>{first}</p>\n<p>{sign_in} <a href=\"{url}\">{url}</a></p>\n<p>{second}</p>\n<p>{closing}</p>\n</body></html>\n",
        lang = match language {
            Language::En => "en",
            Language::De => "de",
        },
        title = e(&subject),
        greeting = e(greeting),
        first = e(first),
        sign_in = e(sign_in),
        url = e(url),
        second = e(second),
        closing = e(closing),
    );
    Mail { subject, text, html }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn invitation(language: Language, product_name: &str) -> Invitation<'_> {
        Invitation {
            language,
            product_name,
            email: "anna@example.com",
            valid_from: "2026-11-28".parse().unwrap(),
            valid_until: "2027-06-30".parse().unwrap(),
            portal_url: "https://portal.example.com/sign-in",
        }
    }

    #[test]
    fn english_names_product_period_link_and_user_name() {
        let m = render(&invitation(Language::En, "TecDoc Catalogue"));
        assert_eq!(m.subject, "Your access to TecDoc Catalogue");
        for part in [&m.text, &m.html] {
            assert!(part.contains("TecDoc Catalogue"));
            assert!(part.contains("28 November 2026") && part.contains("30 June 2027"));
            assert!(part.contains("https://portal.example.com/sign-in"));
            assert!(part.contains("user name is your e-mail address: anna@example.com"));
        }
    }

    #[test]
    fn german_uses_german_words_and_dates() {
        let m = render(&invitation(Language::De, "TecDoc Katalog"));
        assert_eq!(m.subject, "Ihr Zugang zu TecDoc Katalog");
        assert!(m.text.contains("vom 28.11.2026 bis zum 30.06.2027"));
        assert!(m.text.contains("Benutzername ist Ihre E-Mail-Adresse: anna@example.com"));
        assert!(m.html.contains("lang=\"de\""));
    }

    #[test]
    fn product_names_are_escaped_in_html() {
        let m = render(&invitation(Language::En, "<script>alert('x')</script> & \"Co\""));
        assert!(!m.html.contains("<script>"));
        assert!(
            m.html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;Co&quot;")
        );
        assert!(m.text.contains("<script>"), "the text part is plain text");
    }

    #[test]
    fn reminders_name_the_day_in_the_persons_language_and_count_for_the_buyer() {
        let access = |language| AccessEnds {
            language,
            product_name: "<b>Cat</b>",
            email: "anna@example.com",
            valid_until: "2027-01-08".parse().unwrap(),
            portal_url: "https://portal.example.com/sign-in",
        };
        let en = render_access_ends(&access(Language::En));
        assert_eq!(en.subject, "Your access to <b>Cat</b> ends on 8 January 2027");
        assert!(en.html.contains("&lt;b&gt;Cat&lt;/b&gt;") && !en.html.contains("<b>"));
        assert!(en.text.contains("https://portal.example.com/sign-in"));
        let de = render_access_ends(&access(Language::De));
        assert_eq!(de.subject, "Ihr Zugang zu <b>Cat</b> endet am 08.01.2027");
        assert!(de.html.contains("lang=\"de\""));
        let buyer = render_term_ends(&TermEnds {
            product_name: "TecDoc",
            invoice_number: "INV-1",
            end: "2026-12-31".parse().unwrap(),
            days: 7,
            losing: 12,
            portal_url: "https://portal.example.com/sign-in",
        });
        assert_eq!(buyer.subject, "Your TecDoc licence ends in 7 days, on 31 December 2026");
        assert!(buyer.text.contains("12 people lose access on 31 December 2026."));
        assert!(buyer.html.contains("<a href=\"https://portal.example.com/sign-in\">"));
    }

    #[test]
    fn idle_mails_say_when_and_what_in_the_persons_language() {
        let r = Idle {
            language: Language::De,
            product_name: "Kat <b>",
            email: "anna@example.com",
            last_used: Some("2026-09-01".parse().unwrap()),
            use_by: Some("2026-12-20".parse().unwrap()),
            portal_url: "https://portal.example.com",
        };
        let m = render_idle(&r);
        assert!(m.subject.contains("20.12.2026"), "{}", m.subject);
        assert!(m.text.contains("zuletzt am 01.09.2026"), "{}", m.text);
        assert!(m.html.contains("Kat &lt;b&gt;") && !m.html.contains("Kat <b>"));
        let ended =
            render_idle(&Idle { language: Language::En, use_by: None, last_used: None, ..r });
        assert_eq!(ended.subject, "Your access to Kat <b> has ended");
        assert!(ended.text.contains("not used it yet"));
        let freed = Freed {
            product_name: "P".into(),
            invoice_number: "INV-1".into(),
            email: "anna@example.com".into(),
            last_used: None,
        };
        let digest = render_reclaim_digest(&[freed.clone(), freed], "https://p");
        assert_eq!(digest.subject, "2 unused seats were freed");
        assert!(digest.text.contains("anna@example.com on P (invoice INV-1), never used"));
    }

    proptest! {
        #[test]
        fn no_user_text_reaches_the_html_unescaped(name in "\\PC{0,40}") {
            let m = render(&invitation(Language::En, &name));
            let tags = m.html.matches('<').count();
            let plain = render(&invitation(Language::En, "x"));
            prop_assert_eq!(tags, plain.html.matches('<').count());
        }
    }
}

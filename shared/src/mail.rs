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
            "Hello,".to_string(),
            format!("you have been given access to {} from {from} to {until}.", inv.product_name),
            "Sign in to the portal:".to_string(),
            format!("Your user name is your e-mail address: {}", inv.email),
            "Kind regards".to_string(),
        ),
        Language::De => (
            format!("Ihr Zugang zu {}", inv.product_name),
            "Guten Tag,".to_string(),
            format!(
                "Sie haben vom {from} bis zum {until} Zugang zu {} erhalten.",
                inv.product_name
            ),
            "Melden Sie sich im Portal an:".to_string(),
            format!("Ihr Benutzername ist Ihre E-Mail-Adresse: {}", inv.email),
            "Freundliche Grüße".to_string(),
        ),
    };
    let text = format!(
        "{greeting}\n\n{access}\n\n{sign_in} {url}\n{user_name}\n\n{closing}\n",
        url = inv.portal_url
    );
    let e = escape_html;
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"{lang}\"><head><meta charset=\"utf-8\"><title>{title}</title></head>\n<body>\n<p>{greeting}</p>\n<p>{access}</p>\n<p>{sign_in} <a href=\"{url}\">{url}</a></p>\n<p>{user_name}</p>\n<p>{closing}</p>\n</body></html>\n",
        lang = match inv.language {
            Language::En => "en",
            Language::De => "de",
        },
        title = e(&subject),
        greeting = e(&greeting),
        access = e(&access),
        sign_in = e(&sign_in),
        url = e(inv.portal_url),
        user_name = e(&user_name),
        closing = e(&closing),
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

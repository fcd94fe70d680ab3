//! The messages the app sends. Every user-controlled value is HTML-escaped in the HTML body.

use super::Mail;

pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

fn mail(to: &str, subject: &str, name: &str, paragraphs: &[&str], action: Option<(&str, &str)>) -> Mail {
    let mut text = format!("Hello {name},\n\n");
    let mut html = format!(
        "<!doctype html><html><body style=\"font-family:system-ui,sans-serif;color:#111827\"><p>Hello {},</p>",
        escape(name)
    );
    for p in paragraphs {
        text.push_str(p);
        text.push_str("\n\n");
        html.push_str(&format!("<p>{}</p>", escape(p)));
    }
    if let Some((label, url)) = action {
        text.push_str(&format!("{label}: {url}\n\n"));
        html.push_str(&format!(
            "<p><a href=\"{u}\" style=\"background:#4f46e5;color:#fff;padding:10px 16px;border-radius:6px;text-decoration:none\">{l}</a></p>\
             <p style=\"color:#6b7280;font-size:13px\">Or paste this link into your browser: {u}</p>",
            u = escape(url),
            l = escape(label)
        ));
    }
    text.push_str("-- CRM Contact Manager\n");
    html.push_str("<p style=\"color:#6b7280\">-- CRM Contact Manager</p></body></html>");
    Mail {
        to: to.to_string(),
        subject: subject.to_string(),
        text,
        html,
    }
}

pub fn verify_email(to: &str, name: &str, link: &str) -> Mail {
    mail(
        to,
        "Verify your email address",
        name,
        &["Please confirm your email address to finish creating your account. The link expires in 24 hours."],
        Some(("Verify email", link)),
    )
}

pub fn reset_password(to: &str, name: &str, link: &str) -> Mail {
    mail(
        to,
        "Reset your password",
        name,
        &[
            "Someone asked to reset the password of your account. If it was you, choose a new password with the link below; it expires in 1 hour.",
            "If it was not you, ignore this email: your password stays as it is.",
        ],
        Some(("Reset password", link)),
    )
}

pub fn password_changed(to: &str, name: &str, link: &str) -> Mail {
    mail(
        to,
        "Your password was changed",
        name,
        &[
            "The password of your account was just changed and every other session was signed out.",
            "If you did not do this, reset your password at once and tell your administrator.",
        ],
        Some(("Reset password", link)),
    )
}

pub fn security_alert(to: &str, name: &str, reason: &str, ip: &str, when: &str, link: &str) -> Mail {
    let details = format!("What happened: {reason}. IP address: {ip}. Time: {when}.");
    mail(
        to,
        "Security alert for your account",
        name,
        &[
            &details,
            "If this was you, there is nothing to do. If not, change your password now, turn on two-factor authentication, and review your active sessions in Settings.",
        ],
        Some(("Review your account", link)),
    )
}

/// A short security notice with one link.
pub fn notice(to: &str, name: &str, subject: &str, text: &str, link: &str) -> Mail {
    mail(to, subject, name, &[text], Some(("Review your account", link)))
}

pub fn invitation(to: &str, inviter: &str, role: &str, link: &str) -> Mail {
    mail(
        to,
        "You are invited to the CRM",
        "there",
        &[&format!(
            "{inviter} invited you to join the team's CRM as {role}. Choose your name and password with the link below; it works once and expires in 7 days."
        )],
        Some(("Accept the invitation", link)),
    )
}

pub fn denials_alert(to: &str, name: &str, who: &str, who_email: &str, n: u64) -> Mail {
    mail(
        to,
        "Repeated permission denials",
        name,
        &[
            &format!(
                "{who} ({who_email}) was refused {n} times in the last five minutes: requests for records or admin actions outside their permissions."
            ),
            "It may be a mistake, a broken integration or someone probing. The audit log lists each refusal with its route and IP (filter the action \"denied\").",
        ],
        None,
    )
}

pub fn webhook_disabled(to: &str, name: &str, url: &str, link: &str) -> Mail {
    mail(
        to,
        "A webhook endpoint was disabled",
        name,
        &[
            &format!(
                "Every delivery to the webhook endpoint {url} has failed for 24 hours, so it was disabled and no more events are queued for it."
            ),
            "Fix the receiver, then enable the endpoint again and retry the failed deliveries from the webhooks page.",
        ],
        Some(("Open the webhooks page", link)),
    )
}

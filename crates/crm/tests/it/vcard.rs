//! vCards: a contact's card (scoped) round-trips through the `.vcf` import into another
//! account; a file of Apple-, Google- and Outlook-style cards previews and imports through
//! the CSV pipeline (same duplicates, same row errors, errors.csv).

use crm_core::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::both;
use crate::import::{counts, find, import};
use crate::support::TestApp;

async fn vcard_round_trips_through_import(app: &TestApp) {
    let rep = app.user(Role::Rep).await;
    let other = app.user(Role::Rep).await;
    let id = rep
        .contact(
            "Ada, Augusta",
            "Lovelace; King",
            json!({"email": "ada@example.com", "phoneNumber": "+44 20 7946 0001", "jobTitle": "Chief Analyst, R&D",
                   "companyName": "Analytical Engines; Ltd"}),
        )
        .await;
    let (_, before) = rep.get(&format!("/api/contacts/{id}")).await;
    let res = rep
        .http
        .get(format!("{}/api/contacts/{id}/vcard", app.base))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), StatusCode::OK);
    let header = |n: &str| {
        res.headers()
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    assert_eq!(header("content-type"), "text/vcard; charset=utf-8");
    assert_eq!(
        header("content-disposition"),
        "attachment; filename=\"Ada-Augusta-Lovelace-King.vcf\""
    );
    let card = res.text().await.expect("body");
    assert!(card.starts_with("BEGIN:VCARD\r\nVERSION:4.0\r\n"), "{card}");
    assert!(card.contains(&format!("UID:urn:uuid:{id}\r\n")));
    assert!(card.contains("N:Lovelace\\; King;Ada\\, Augusta;;;\r\n"), "{card}");
    assert!(card.contains("ORG:Analytical Engines\\; Ltd\r\n"), "{card}");

    // scoped like the contact
    let (st, _) = other.get(&format!("/api/contacts/{id}/vcard")).await;
    assert_eq!(st, StatusCode::NOT_FOUND);

    // into another account: the same fields come back
    let (st, v) = rep.delete(&format!("/api/contacts/{id}")).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let v = import(&other, "contacts", card.as_bytes(), &[]).await;
    assert_eq!(counts(&v), (1, 1, 0, 0, 0), "{v}");
    let after = find(&other, "ada@example.com").await;
    let before = &before["data"];
    for k in ["firstName", "lastName", "email", "phoneNumber", "jobTitle"] {
        assert_eq!(after[k], before[k], "{k}");
    }
    assert_eq!(after["company"]["name"], "Analytical Engines; Ltd");
    assert_eq!(after["company"]["id"], before["company"]["id"], "matched by name");
    assert_eq!(after["userId"], other.id().to_string());
}
both!(vcard_round_trips_through_import);

/// Apple Contacts (3.0: grouped TEL, type=pref, folded lines, a photo), Google Contacts
/// (4.0), Outlook (2.1, quoted-printable), a card without a name and a duplicate e-mail.
const FILE: &str = "BEGIN:VCARD\r\n\
VERSION:3.0\r\n\
PRODID:-//Apple Inc.//macOS 14.5//EN\r\n\
N:Hopper;Grace;Brewster;;\r\n\
FN:Grace Hopper\r\n\
ORG:Navy Labs;Research;\r\n\
TITLE:Rear Admiral\r\n\
EMAIL;type=INTERNET;type=HOME:grace.home@example.com\r\n\
EMAIL;type=INTERNET;type=WORK;type=pref:grace@ex\r\n ample.com\r\n\
item1.TEL;type=pref:+1 555 010 2000\r\n\
item1.X-ABLabel:_$!<Mobile>!$_\r\n\
PHOTO;ENCODING=b;TYPE=JPEG:/9j/4AAQSkZJRgABAQAAAQABAAD\r\n /2wBDAAMCAgICAgMCAgIDAwMDBAYEBAQEBAgGBgUGCQgKCgkICQkKDA8MCgsOCwkJDRENDg8Q\r\n\
END:VCARD\r\n\
BEGIN:VCARD\r\n\
VERSION:4.0\r\n\
FN:Katherine Johnson\r\n\
N:Johnson;Katherine;;;\r\n\
EMAIL;TYPE=work;PREF=1:dup@example.com\r\n\
TEL;VALUE=uri;TYPE=cell:tel:+1-555-300-4000\r\n\
ORG:NASA\r\n\
END:VCARD\r\n\
BEGIN:VCARD\r\n\
VERSION:3.0\r\n\
EMAIL:nobody@example.com\r\n\
END:VCARD\r\n\
BEGIN:VCARD\n\
VERSION:2.1\n\
N;CHARSET=utf-8;ENCODING=QUOTED-PRINTABLE:M=C3=BCller;J=C3=BCrgen\n\
FN;CHARSET=utf-8;ENCODING=QUOTED-PRINTABLE:J=C3=BCrgen M=C3=BCller\n\
EMAIL;PREF;INTERNET:jm@example.com\n\
TEL;WORK;VOICE:+49 30 1234567\n\
END:VCARD\n";

fn value<'a>(row: &'a Value, field: &str) -> Option<&'a str> {
    row["values"]
        .as_array()?
        .iter()
        .find(|kv| kv[0] == field)
        .and_then(|kv| kv[1].as_str())
}

async fn vcf_import_previews_duplicates_and_errors(app: &TestApp) {
    let rep = app.user(Role::Rep).await;
    rep.contact("Existing", "Person", json!({"email": "dup@example.com"}))
        .await;
    let (st, p) = rep
        .upload(
            "/api/contacts/import/preview",
            &[],
            Some(("contacts.vcf", FILE.as_bytes())),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{p}");
    let p = &p["data"];
    assert_eq!(p["format"], "vcard");
    assert_eq!(
        p["mapping"],
        json!([
            "firstName",
            "lastName",
            "fullName",
            "email",
            "phoneNumber",
            "jobTitle",
            "company"
        ])
    );
    assert_eq!(
        (p["total"].as_i64(), p["valid"].as_i64(), p["invalid"].as_i64()),
        (Some(4), Some(3), Some(1))
    );
    let rows = p["rows"].as_array().expect("rows");
    let lines: Vec<i64> = rows.iter().filter_map(|r| r["line"].as_i64()).collect();
    assert_eq!(lines, vec![1, 16, 24, 28], "each card on its BEGIN line");

    let apple = &rows[0];
    assert_eq!(apple["outcome"], "new", "{apple}");
    assert_eq!(value(apple, "firstName"), Some("Grace"));
    assert_eq!(value(apple, "lastName"), Some("Hopper"));
    assert_eq!(
        value(apple, "email"),
        Some("grace@example.com"),
        "the preferred, unfolded"
    );
    assert_eq!(value(apple, "phoneNumber"), Some("+1 555 010 2000"));
    assert_eq!(value(apple, "jobTitle"), Some("Rear Admiral"));
    assert_eq!(value(apple, "company"), Some("Navy Labs"));

    let google = &rows[1];
    assert_eq!(google["outcome"], "duplicate", "{google}");
    assert_eq!(google["message"], "A contact with this email or phone number exists");
    assert_eq!(value(google, "phoneNumber"), Some("+1-555-300-4000"));

    let nameless = &rows[2];
    assert_eq!(nameless["outcome"], "error", "{nameless}");
    assert_eq!(nameless["message"], "First name is required; Last name is required");

    let outlook = &rows[3];
    assert_eq!(outlook["outcome"], "new", "{outlook}");
    assert_eq!(value(outlook, "firstName"), Some("Jürgen"));
    assert_eq!(value(outlook, "lastName"), Some("Müller"));

    // the import: the duplicate skipped, the nameless card failed with its line
    let v = import(&rep, "contacts", FILE.as_bytes(), &[]).await;
    assert_eq!(counts(&v), (4, 2, 0, 1, 1), "{v}");
    let g = find(&rep, "grace@example.com").await;
    assert_eq!(g["company"]["name"], "Navy Labs");
    let res = rep
        .http
        .get(format!(
            "{}/api/imports/{}/errors.csv",
            app.base,
            v["id"].as_str().unwrap_or("")
        ))
        .send()
        .await
        .expect("request");
    let csv = res.text().await.expect("body");
    assert!(
        csv.contains("line,error,First Name,Last Name,Full Name,Email,Phone,Job Title,Company"),
        "{csv}"
    );
    assert!(
        csv.contains("24,First name is required; Last name is required,,,,nobody@example.com"),
        "{csv}"
    );

    // a .vcf with no complete card is refused as a whole
    let (st, v) = rep
        .upload(
            "/api/contacts/import/preview",
            &[],
            Some(("broken.vcf", b"BEGIN:VCARD\r\nFN:Never Ends\r\n")),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(v["error"], "The file has no complete vCard (BEGIN:VCARD … END:VCARD)");
}
both!(vcf_import_previews_duplicates_and_errors);

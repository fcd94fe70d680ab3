//! CSV import: real-world file layouts and encodings, column mapping, duplicates under skip
//! and update, errors.csv, bad files, permissions, the page flow and interrupted jobs.

use crm_core::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::both;
use crate::support::{Client, TestApp};

/// Wait for a job to finish; returns its final status object.
pub(crate) async fn wait(c: &Client, id: &str) -> Value {
    for _ in 0..400 {
        let (st, v) = c.get(&format!("/api/imports/{id}")).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        let s = v["data"]["status"].as_str().unwrap_or("").to_string();
        if s == "done" || s == "failed" {
            return v["data"].clone();
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("import {id} did not finish");
}

/// Upload a file to `/api/{kind}/import`, expect 202, wait for the end.
pub(crate) async fn import(c: &Client, kind: &str, file: &[u8], fields: &[(&str, &str)]) -> Value {
    let (st, v) = c
        .upload(&format!("/api/{kind}/import"), fields, Some(("people.csv", file)))
        .await;
    assert_eq!(st, StatusCode::ACCEPTED, "{v}");
    let id = v["data"]["id"].as_str().expect("job id").to_string();
    wait(c, &id).await
}

pub(crate) fn counts(v: &Value) -> (i64, i64, i64, i64, i64) {
    let n = |k: &str| v[k].as_i64().unwrap_or(-1);
    (n("total"), n("created"), n("updated"), n("skipped"), n("failed"))
}

/// The one contact the caller sees with this search text.
pub(crate) async fn find(c: &Client, q: &str) -> Value {
    let (st, v) = c.get(&format!("/api/contacts?search={}", q.replace('@', "%40"))).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["pagination"]["total"], 1, "one contact matching {q}: {v}");
    let id = v["data"][0]["id"].as_str().unwrap().to_string();
    c.get(&format!("/api/contacts/{id}")).await.1["data"].clone()
}

async fn outlook_layout_maps_fields(app: &TestApp) {
    let admin = app.user(Role::Admin).await;
    let rep = app.user(Role::Rep).await;
    let file = "Title,First Name,Middle Name,Last Name,Suffix,Company,Department,Job Title,Business Phone,Mobile Phone,E-mail Address,Notes\r\n\
                Mr.,Ada,,Lovelace,,Analytical Engines,R&D,Chief Analyst,+44 20 7946 0001,,ada@example.com,first\r\n\
                Ms.,Grace,B.,Hopper,,Navy Labs,,Rear Admiral,,+1 (555) 010-2000,GRACE@Example.com,\r\n\
                ,Alan,,Turing,,Analytical Engines,,,,,alan@example.com,\r\n";
    let v = import(&rep, "contacts", file.as_bytes(), &[]).await;
    assert_eq!(v["status"], "done", "{v}");
    assert_eq!(counts(&v), (3, 3, 0, 0, 0));
    assert_eq!(v["companiesCreated"], 2, "Analytical Engines once, Navy Labs once");

    let ada = find(&rep, "ada@example.com").await;
    assert_eq!(ada["firstName"], "Ada");
    assert_eq!(ada["lastName"], "Lovelace");
    assert_eq!(ada["jobTitle"], "Chief Analyst", "Job Title, not Outlook's Title (Mr.)");
    assert_eq!(ada["phoneNumber"], "+44 20 7946 0001");
    assert_eq!(ada["company"]["name"], "Analytical Engines");
    assert_eq!(ada["status"], "lead");
    assert_eq!(
        ada["userId"],
        rep.id().to_string(),
        "imported rows belong to the importer"
    );
    let grace = find(&rep, "grace@example.com").await;
    assert_eq!(grace["email"], "grace@example.com", "normalised like a created contact");
    assert_eq!(
        grace["phoneNumber"], "+1 (555) 010-2000",
        "mobile phone when there is no business phone"
    );
    let alan = find(&rep, "alan@example.com").await;
    assert_eq!(alan["companyId"], ada["companyId"], "companies are matched by name");
    assert_eq!(alan["jobTitle"], Value::Null);

    // one audit event for the whole import, with the counts
    let (_, log) = admin.get("/api/admin/audit?action=import").await;
    assert_eq!(log["pagination"]["total"], 1, "{log}");
    assert_eq!(log["data"][0]["entityType"], "contact");
    assert_eq!(log["data"][0]["changes"]["created"], 3);
    assert_eq!(log["data"][0]["changes"]["failed"], 0);
}
both!(outlook_layout_maps_fields);

async fn google_layout_maps_fields(app: &TestApp) {
    let rep = app.user(Role::Rep).await;
    let file = "Name,Given Name,Additional Name,Family Name,Nickname,E-mail 1 - Type,E-mail 1 - Value,Phone 1 - Type,Phone 1 - Value,Organization 1 - Name,Organization 1 - Title\n\
                Katherine Johnson,Katherine,,Johnson,Kat,* Home,kj@example.com ::: katherine@work.example.com,Mobile,+1 555 300 4000,NASA,Mathematician\n\
                Dorothy Vaughan,,,,,* Work,dv@example.com,,,NASA,\n";
    // the preview shows the suggested mapping before anything is written
    let (st, p) = rep
        .upload(
            "/api/contacts/import/preview",
            &[],
            Some(("google.csv", file.as_bytes())),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{p}");
    assert_eq!(
        p["data"]["mapping"],
        json!([
            "fullName",
            "firstName",
            null,
            "lastName",
            null,
            null,
            "email",
            null,
            "phoneNumber",
            "company",
            "jobTitle"
        ])
    );
    assert_eq!(p["data"]["total"], 2);
    assert_eq!(p["data"]["valid"], 2);
    assert_eq!(p["data"]["rows"][0]["outcome"], "new");
    assert_eq!(
        rep.get("/api/contacts").await.1["pagination"]["total"],
        0,
        "a preview writes nothing"
    );

    let v = import(&rep, "contacts", file.as_bytes(), &[]).await;
    assert_eq!(counts(&v), (2, 2, 0, 0, 0), "{v}");
    let k = find(&rep, "kj@example.com").await;
    assert_eq!(
        (k["firstName"].as_str(), k["lastName"].as_str()),
        (Some("Katherine"), Some("Johnson"))
    );
    assert_eq!(k["email"], "kj@example.com", "the first of Google's ::: values");
    assert_eq!(k["phoneNumber"], "+1 555 300 4000");
    assert_eq!(k["jobTitle"], "Mathematician");
    assert_eq!(k["company"]["name"], "NASA");
    let d = find(&rep, "dv@example.com").await;
    assert_eq!(
        (d["firstName"].as_str(), d["lastName"].as_str()),
        (Some("Dorothy"), Some("Vaughan")),
        "the Name column is split when first and last are empty"
    );
}
both!(google_layout_maps_fields);

async fn bom_semicolons_crlf_and_embedded_newlines(app: &TestApp) {
    let rep = app.user(Role::Rep).await;
    let file = "\u{feff}FirstName;LastName;Email;Title;Lead Status\r\n\
                \"Jean; Luc\";Picard;jl@example.com;\"Captain\r\nof the Enterprise\";Closed - Converted\r\n\
                \r\n\
                Beverly;Crusher;bc@example.com;Doctor;Open - Not Contacted\r\n";
    let v = import(&rep, "contacts", file.as_bytes(), &[]).await;
    assert_eq!(counts(&v), (2, 2, 0, 0, 0), "{v}");
    let jl = find(&rep, "jl@example.com").await;
    assert_eq!(jl["firstName"], "Jean; Luc", "the BOM is not part of the first header");
    assert_eq!(jl["jobTitle"], "Captain\r\nof the Enterprise");
    assert_eq!(jl["status"], "customer", "Salesforce lead statuses become ours");
    assert_eq!(find(&rep, "bc@example.com").await["status"], "lead");
}
both!(bom_semicolons_crlf_and_embedded_newlines);

async fn windows_1252_files(app: &TestApp) {
    let rep = app.user(Role::Rep).await;
    let mut file = b"First Name,Last Name,E-mail Address,Company\r\n".to_vec();
    file.extend_from_slice(b"J\xfcrgen,M\xfcller,jm@example.com,Caf\xe9 \x80uro GmbH\r\n");
    file.extend_from_slice(b"Jos\xe9,Garc\xeda,jg@example.com,\r\n");
    let v = import(&rep, "contacts", &file, &[]).await;
    assert_eq!(counts(&v), (2, 2, 0, 0, 0), "{v}");
    let m = find(&rep, "jm@example.com").await;
    assert_eq!(m["firstName"], "Jürgen");
    assert_eq!(m["lastName"], "Müller");
    assert_eq!(m["company"]["name"], "Café €uro GmbH");
    assert_eq!(find(&rep, "jg@example.com").await["firstName"], "José");
    // chosen explicitly as UTF-8, the same bytes are refused with a hint
    let (st, v) = rep
        .upload(
            "/api/contacts/import",
            &[("encoding", "utf-8")],
            Some(("latin.csv", &file)),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(
        v["error"],
        "Line 2 is not valid UTF-8; choose the Windows-1252 encoding for this file"
    );
}
both!(windows_1252_files);

/// The file: a new row, the existing contact by e-mail (other case), by phone (other format),
/// and two repeats of the new row inside the file (by e-mail, by phone).
const DUPES: &str = "First Name,Last Name,Email,Phone,Job Title\n\
                     New,Person,new@example.com,+1 555 777 0001,Fresh\n\
                     Old,ByEmail,DUP@example.COM,,From email row\n\
                     Old,ByPhone,other@example.com,+1 (555) 000-1111,From phone row\n\
                     New,Again,NEW@example.com,,Repeat by email\n\
                     New,Thrice,third@example.com,+1-555-777-0001,Repeat by phone\n";

async fn duplicates_follow_on_duplicate(app: &TestApp) {
    let rep = app.user(Role::Rep).await;
    let existing = rep
        .contact(
            "Dup",
            "Existing",
            json!({"email": "dup@example.com", "phoneNumber": "+1 555 000 1111", "jobTitle": "Before"}),
        )
        .await;

    let v = import(&rep, "contacts", DUPES.as_bytes(), &[("onDuplicate", "skip")]).await;
    assert_eq!(counts(&v), (5, 1, 0, 4, 0), "skip: {v}");
    let (_, list) = rep.get("/api/contacts").await;
    assert_eq!(list["pagination"]["total"], 2);
    let (_, e) = rep.get(&format!("/api/contacts/{existing}")).await;
    assert_eq!(e["data"]["jobTitle"], "Before", "skipped rows change nothing");

    let v = import(&rep, "contacts", DUPES.as_bytes(), &[("onDuplicate", "update")]).await;
    assert_eq!(
        counts(&v),
        (5, 0, 5, 0, 0),
        "update, second run: every row matches a saved contact: {v}"
    );
    let (_, e) = rep.get(&format!("/api/contacts/{existing}")).await;
    assert_eq!(e["data"]["jobTitle"], "From phone row", "later rows win");
    assert_eq!(e["data"]["lastName"], "ByPhone");
    assert_eq!(
        e["data"]["email"], "other@example.com",
        "the phone row's e-mail is taken"
    );
    let n = find(&rep, "third@example.com").await;
    assert_eq!(
        n["lastName"], "Thrice",
        "the row repeating the phone updated the new contact"
    );
    assert_eq!(rep.get("/api/contacts").await.1["pagination"]["total"], 2);
}
both!(duplicates_follow_on_duplicate);

async fn duplicates_inside_the_file_under_update(app: &TestApp) {
    let rep = app.user(Role::Rep).await;
    let other = app.user(Role::Rep).await;
    other
        .contact("Theirs", "Contact", json!({"email": "theirs@example.com"}))
        .await;
    let file = "First Name,Last Name,Email,Job Title\n\
                Ann,One,ann@example.com,First\n\
                Ann,Two,Ann@Example.com,Second\n\
                Someone,Else,theirs@example.com,Mine now?\n";
    let v = import(&rep, "contacts", file.as_bytes(), &[("onDuplicate", "update")]).await;
    assert_eq!(counts(&v), (3, 1, 1, 0, 1), "{v}");
    let ann = find(&rep, "ann@example.com").await;
    assert_eq!(
        (ann["lastName"].as_str(), ann["jobTitle"].as_str()),
        (Some("Two"), Some("Second"))
    );
    // another rep's contact is not changed (the same answer the contact API gives)
    let res = rep
        .http
        .get(format!(
            "{}/api/imports/{}/errors.csv",
            rep.base,
            v["id"].as_str().unwrap()
        ))
        .send()
        .await
        .unwrap();
    let csv = res.text().await.unwrap();
    assert!(
        csv.contains("4,Email already exists,Someone,Else,theirs@example.com"),
        "{csv}"
    );
    let (_, t) = other.get("/api/contacts").await;
    assert_eq!(t["data"][0]["firstName"], "Theirs");
}
both!(duplicates_inside_the_file_under_update);

async fn errors_csv_lists_rejected_rows_with_the_api_messages(app: &TestApp) {
    let rep = app.user(Role::Rep).await;
    let file = "First Name,Last Name,Email,Phone,Status\n\
                Good,Row,good@example.com,,lead\n\
                ,NoFirst,nofirst@example.com,,\n\
                Bad,Email,not-an-email,,\n\
                Short,Phone,short@example.com,123,\n\
                Odd,Status,odd@example.com,,VIP\n\
                \"Multi\nLine\",Name,x,,\n";
    let v = import(&rep, "contacts", file.as_bytes(), &[]).await;
    assert_eq!(v["status"], "done");
    assert_eq!(counts(&v), (6, 1, 0, 0, 5), "{v}");

    // the same rows sent to the contact API
    let api = |body: Value| {
        let rep = &rep;
        async move {
            let (st, v) = rep.post("/api/contacts", body).await;
            assert_eq!(st, StatusCode::BAD_REQUEST);
            v["error"].as_str().unwrap().to_string()
        }
    };
    let no_first = api(json!({"lastName": "NoFirst", "email": "nofirst@example.com"})).await;
    let bad_email = api(json!({"firstName": "Bad", "lastName": "Email", "email": "not-an-email"})).await;
    let short =
        api(json!({"firstName": "Short", "lastName": "Phone", "email": "short@example.com", "phoneNumber": "123"}))
            .await;
    let status =
        api(json!({"firstName": "Odd", "lastName": "Status", "email": "odd@example.com", "status": "vip"})).await;
    assert_eq!(no_first, "First name is required");
    assert_eq!(short, "Phone number must be at least 10 characters");

    let res = rep
        .http
        .get(format!(
            "{}/api/imports/{}/errors.csv",
            rep.base,
            v["id"].as_str().unwrap()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()["content-type"].to_str().unwrap().starts_with("text/csv"),
        "a CSV download"
    );
    let csv = res.text().await.unwrap();
    let lines: Vec<&str> = csv.trim_start_matches('\u{feff}').split("\r\n").collect();
    assert_eq!(lines[0], "line,error,First Name,Last Name,Email,Phone,Status");
    assert_eq!(lines[1], format!("3,{no_first},,NoFirst,nofirst@example.com,,"));
    assert_eq!(lines[2], format!("4,{bad_email},Bad,Email,not-an-email,,"));
    assert_eq!(lines[3], format!("5,{short},Short,Phone,short@example.com,123,"));
    assert_eq!(status, "Status must be one of: lead, customer");
    assert_eq!(
        lines[4],
        format!("6,\"{status}\",Odd,Status,odd@example.com,,VIP"),
        "quoted: it holds a comma"
    );
    assert_eq!(
        lines[5], "7,Invalid email format,\"Multi\nLine\",Name,x,,",
        "the line a record starts on"
    );
    assert_eq!(lines.len(), 7, "five rejected rows and the final line break: {csv}");
}
both!(errors_csv_lists_rejected_rows_with_the_api_messages);

async fn formula_cells_are_stored_as_text(app: &TestApp) {
    let rep = app.user(Role::Rep).await;
    let file = "First Name,Last Name,Email,Job Title\n\
                \"=HYPERLINK(\"\"http://evil.example\"\",\"\"x\"\")\",-5,f@example.com,+1+2\n\
                @SUM(A1),Plain,g@example.com,=1+1\n";
    let v = import(&rep, "contacts", file.as_bytes(), &[]).await;
    assert_eq!(counts(&v), (2, 2, 0, 0, 0), "{v}");
    let f = find(&rep, "f@example.com").await;
    assert_eq!(f["firstName"], "=HYPERLINK(\"http://evil.example\",\"x\")");
    assert_eq!(f["lastName"], "-5");
    assert_eq!(f["jobTitle"], "+1+2");
    let g = find(&rep, "g@example.com").await;
    assert_eq!(g["firstName"], "@SUM(A1)");
    assert_eq!(g["jobTitle"], "=1+1");
    // and an export neutralises them again
    let res = rep
        .http
        .get(format!("{}/api/contacts/export", rep.base))
        .send()
        .await
        .unwrap();
    let csv = res.text().await.unwrap();
    assert!(csv.contains(",'@SUM(A1),Plain,"), "{csv}");
}
both!(formula_cells_are_stored_as_text);

async fn bad_files_are_refused_and_nothing_is_written(app: &TestApp) {
    use crm_core::unscoped::import;
    use sea_orm::{EntityTrait, PaginatorTrait};
    let rep = app.user(Role::Rep).await;
    let png: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01";
    let cases: Vec<(&str, &[u8], &str)> = vec![
        ("empty", b"", "The file is empty"),
        ("blank", b"  \r\n\r\n", "The file is empty"),
        (
            "no header",
            b"ann@example.com,Ann,Smith\nbob@example.com,Bob,Jones\n",
            "The file has no header row: its first line must name the columns (for example First Name, Last Name, Email)",
        ),
        (
            "binary",
            png,
            "This is not a CSV file: it contains binary data. Export your contacts as CSV and upload that file",
        ),
        (
            "too many columns",
            b"First Name,Last Name,Email\nA,B,a@example.com\nC,D,c@example.com,extra,cells\n",
            "Line 3 has 5 columns but the header has 3; check the delimiter and the quoting of that line",
        ),
        (
            "header only",
            b"First Name,Last Name,Email\n",
            "The file has a header row but no data rows",
        ),
        (
            "nothing mapped to email",
            b"First Name,Last Name,Shoe Size\nA,B,42\n",
            "No column is mapped to Email; choose which column holds it",
        ),
    ];
    for (what, bytes, message) in cases {
        let (st, v) = rep.upload("/api/contacts/import", &[], Some(("f.csv", bytes))).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{what}: {v}");
        assert_eq!(v["error"], message, "{what}");
        assert_eq!(v["fieldErrors"].as_object().map(|o| o.len()), Some(1), "{what}: {v}");
    }
    let (st, v) = rep
        .upload("/api/contacts/import", &[("onDuplicate", "skip")], None)
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(v["error"], "Choose a CSV file to import");
    let (st, v) = rep
        .upload(
            "/api/contacts/import",
            &[("onDuplicate", "merge")],
            Some(("f.csv", b"Email,First Name,Last Name\na@b.co,A,B\n")),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(v["error"], "onDuplicate must be one of: skip, update");
    let (st, v) = rep
        .upload(
            "/api/contacts/import",
            &[("mapping", "{\"Nope\": \"email\"}")],
            Some(("f.csv", b"Email,First Name,Last Name\na@b.co,A,B\n")),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(v["error"], "The file has no column named \"Nope\"");
    // a file too wide to hold in memory is refused before any job exists
    let mut wide = (0..201).map(|i| format!("Col{i}")).collect::<Vec<_>>().join(",");
    wide.push_str(",Email\n");
    let (st, v) = rep
        .upload("/api/contacts/import", &[], Some(("wide.csv", wide.as_bytes())))
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(
        v["error"],
        "The file has 202 columns; at most 200 can be imported. Remove the columns you do not need"
    );
    let (st, v) = rep.post("/api/contacts/import", json!({"file": "x"})).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "JSON instead of a multipart upload: {v}");
    assert_eq!(
        v["error"],
        "Send the file as multipart/form-data, in a field named \"file\""
    );
    assert_eq!(rep.get("/api/contacts").await.1["pagination"]["total"], 0);
    assert_eq!(
        import::Entity::find().count(app.db.unscoped()).await.unwrap(),
        0,
        "no job row either"
    );
    let (st, _) = app
        .anonymous()
        .upload("/api/contacts/import", &[], Some(("f.csv", b"Email\na@b.co\n")))
        .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
}
both!(bad_files_are_refused_and_nothing_is_written);

/// Each running job holds its file in memory: one import at a time per user.
async fn one_running_import_per_user(app: &TestApp) {
    use crm_core::unscoped::import;
    use sea_orm::sea_query::Expr;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let rep = app.user(Role::Rep).await;
    let file: &[u8] = b"Email,First Name,Last Name\na@example.com,A,B\n";
    let (st, v) = rep.upload("/api/contacts/import", &[], Some(("a.csv", file))).await;
    assert_eq!(st, StatusCode::ACCEPTED, "{v}");
    let id: uuid::Uuid = v["data"]["id"].as_str().unwrap().parse().unwrap();
    // hold the job as if it were still running
    for _ in 0..100 {
        let (_, s) = rep.get(&format!("/api/imports/{id}")).await;
        if s["data"]["status"] == "done" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    import::Entity::update_many()
        .col_expr(import::Column::Status, Expr::value("running"))
        .filter(import::Column::Id.eq(id))
        .exec(app.db.unscoped())
        .await
        .unwrap();
    let (st, v) = rep.upload("/api/contacts/import", &[], Some(("b.csv", file))).await;
    assert_eq!(st, StatusCode::TOO_MANY_REQUESTS, "{v}");
    assert_eq!(
        v["error"],
        "One of your imports is still running; start the next one when it has finished"
    );
    let other = app.user(Role::Rep).await;
    let (st, v) = other
        .upload(
            "/api/contacts/import",
            &[],
            Some(("c.csv", b"Email,First Name,Last Name\nc@example.com,C,D\n")),
        )
        .await;
    assert_eq!(st, StatusCode::ACCEPTED, "another user is not held up: {v}");
}
both!(one_running_import_per_user);

async fn files_over_the_size_limit_are_refused(app: &TestApp) {
    let rep = app.user(Role::Rep).await;
    let mut file = String::from("First Name,Last Name,Email\n");
    for i in 0..100 {
        file.push_str(&format!("Person,Number{i},p{i}@example.com\n"));
    }
    assert!(file.len() > 2048);
    let (st, v) = rep
        .upload("/api/contacts/import", &[], Some(("big.csv", file.as_bytes())))
        .await;
    assert_eq!(st, StatusCode::PAYLOAD_TOO_LARGE, "{v}");
    assert_eq!(v["error"], "The file is larger than the import limit of 2 KB");
    // the page says the same, and a small file still goes through
    let (st, html, _) = rep
        .upload_form("/contacts/import", &[], Some(("big.csv", file.as_bytes())))
        .await;
    assert_eq!(st, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        html.contains("The file is larger than the import limit of 2 KB"),
        "{html}"
    );
    assert_eq!(rep.get("/api/contacts").await.1["pagination"]["total"], 0);
    let v = import(
        &rep,
        "contacts",
        b"First Name,Last Name,Email\nA,B,ab@example.com\n",
        &[],
    )
    .await;
    assert_eq!(counts(&v), (1, 1, 0, 0, 0));
}
both!(files_over_the_size_limit_are_refused, |c| c.import_max_bytes = 2048);

async fn jobs_are_private_to_their_importer(app: &TestApp) {
    let rep = app.user(Role::Rep).await;
    let other = app.user(Role::Rep).await;
    let manager = app.user(Role::Manager).await;
    let v = import(&rep, "contacts", b"First Name,Last Name,Email\nA,B,\n", &[]).await;
    let id = v["id"].as_str().unwrap();
    assert_eq!(v["failed"], 1);
    let (st, body) = other.get(&format!("/api/imports/{id}")).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert_eq!(body["error"], "Import not found");
    let (st, _) = other.get(&format!("/api/imports/{id}/errors.csv")).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = other.page(&format!("/imports/{id}")).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = manager.get(&format!("/api/imports/{id}")).await;
    assert_eq!(st, StatusCode::OK, "managers see every job, as they see every contact");
    let (st, _) = rep.get("/api/imports/not-a-uuid").await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let (st, _) = app.anonymous().get(&format!("/api/imports/{id}")).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
}
both!(jobs_are_private_to_their_importer);

async fn owners_of_imported_contacts(app: &TestApp) {
    let manager = app.user(Role::Manager).await;
    let rep = app.user(Role::Rep).await;
    let other = app.user(Role::Rep).await;
    let file = b"First Name,Last Name,Email\nFor,Rep,for.rep@example.com\n";
    let rep_id = rep.id().to_string();
    let v = import(&manager, "contacts", file, &[("userId", &rep_id)]).await;
    assert_eq!(counts(&v), (1, 1, 0, 0, 0), "{v}");
    assert_eq!(v["ownerId"], rep_id);
    let c = find(&rep, "for.rep@example.com").await;
    assert_eq!(c["userId"], rep_id, "a manager may choose the owner");
    assert_eq!(v["userId"], manager.id().to_string(), "the job is the manager's");

    let other_id = other.id().to_string();
    let (st, v) = rep
        .upload(
            "/api/contacts/import",
            &[("userId", &other_id)],
            Some(("f.csv", b"First Name,Last Name,Email\nX,Y,xy@example.com\n")),
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "a rep imports as themselves only: {v}");
    assert_eq!(v["error"], "You can only assign records to yourself");
    assert_eq!(other.get("/api/contacts").await.1["pagination"]["total"], 0);
}
both!(owners_of_imported_contacts);

async fn companies_import_matches_names(app: &TestApp) {
    let rep = app.user(Role::Rep).await;
    let (st, _) = rep
        .post("/api/companies", json!({"name": "Acme Corp", "industry": "retail"}))
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let file = "Account Name,Industry,Website,Phone,Employees,Annual Revenue\n\
                ACME  corp,technology,acme.example.com,,120,\n\
                Globex,finance,https://globex.example.com,+1 555 123 4567,5000,2500000.50\n\
                globex,,,,,\n\
                Initech,,not a url,,many,\n";
    let v = import(&rep, "companies", file.as_bytes(), &[("onDuplicate", "update")]).await;
    assert_eq!(counts(&v), (4, 1, 2, 0, 1), "{v}");
    let (_, list) = rep.get("/api/companies?search=acme").await;
    assert_eq!(list["data"][0]["name"], "ACME  corp");
    assert_eq!(list["data"][0]["industry"], "technology");
    assert_eq!(list["data"][0]["website"], "https://acme.example.com");
    let (_, list) = rep.get("/api/companies?search=globex").await;
    assert_eq!(list["pagination"]["total"], 1);
    assert_eq!(list["data"][0]["employeeCount"], 5000);
    assert_eq!(list["data"][0]["revenue"], 2500000.5);
    let res = rep
        .http
        .get(format!(
            "{}/api/imports/{}/errors.csv",
            rep.base,
            v["id"].as_str().unwrap()
        ))
        .send()
        .await
        .unwrap();
    let csv = res.text().await.unwrap();
    assert!(
        csv.contains("5,Invalid website URL; Employee count must be a whole number,Initech"),
        "{csv}"
    );
    let v = import(&rep, "companies", file.as_bytes(), &[]).await;
    assert_eq!(counts(&v), (4, 0, 0, 3, 1), "skip: {v}");
}
both!(companies_import_matches_names);

async fn page_flow_upload_preview_confirm_progress(app: &TestApp) {
    let rep = app.user(Role::Rep).await;
    let (st, html) = rep.page("/contacts").await;
    assert_eq!(st, StatusCode::OK);
    assert!(
        html.contains("href=\"/contacts/import\""),
        "the empty list offers an import"
    );
    let (st, html) = rep.page("/contacts/import").await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("enctype=\"multipart/form-data\""));

    let file = "Given Name,Family Name,E-mail 1 - Value,Notes\nMae,Jemison,mae@example.com,astronaut\nNo,Email,,\n";
    // without the CSRF token the upload is refused
    let no_token = crate::support::multipart(&[], Some(("g.csv", file.as_bytes())));
    let res = rep
        .http
        .post(format!("{}/contacts/import", rep.base))
        .header("content-type", no_token.0)
        .body(no_token.1)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    let (st, _, loc) = rep
        .upload_form(
            "/contacts/import",
            &[("encoding", "auto")],
            Some(("g.csv", file.as_bytes())),
        )
        .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let preview = loc.expect("redirect to the preview");
    assert!(preview.starts_with("/contacts/import/"), "{preview}");
    let (st, html) = rep.page(&preview).await;
    assert_eq!(st, StatusCode::OK);
    assert!(
        html.contains("<option value=\"email\" selected>Email</option>"),
        "suggested mapping shown"
    );
    assert!(
        html.contains("Email is required"),
        "each row's validation result, before writing"
    );
    assert!(html.contains("mae@example.com"));
    assert_eq!(
        rep.get("/api/contacts").await.1["pagination"]["total"],
        0,
        "nothing written yet"
    );

    // map the Notes column to the job title, then start
    let action = preview.split('?').next().unwrap().to_string();
    let (st, html, _) = rep
        .form(
            &action,
            &[
                ("encoding", "auto"),
                ("col3", "jobTitle"),
                ("onDuplicate", "skip"),
                ("action", "preview"),
            ],
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("<option value=\"jobTitle\" selected>Job title</option>"));
    let (st, _, loc) = rep
        .form(
            &action,
            &[
                ("encoding", "auto"),
                ("col3", "jobTitle"),
                ("onDuplicate", "skip"),
                ("action", "start"),
            ],
        )
        .await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let progress = loc.expect("redirect to the progress page");
    let id = progress.trim_start_matches("/imports/").to_string();
    let v = wait(&rep, &id).await;
    assert_eq!(counts(&v), (2, 1, 0, 0, 1));
    let (st, html) = rep.page(&progress).await;
    assert_eq!(st, StatusCode::OK);
    assert!(html.contains("badge-done"), "{html}");
    assert!(html.contains(&format!("/api/imports/{id}/errors.csv")));
    assert!(!html.contains("data-import-poll"), "a finished job is not polled");
    assert_eq!(find(&rep, "mae@example.com").await["jobTitle"], "astronaut");
    let (st, _) = rep.page(&preview).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "the upload is used up");
    let (_, html) = rep.page("/contacts/import").await;
    assert!(html.contains("g.csv"), "recent imports are listed");

    // a user keeps at most three uploads waiting on the preview page
    let mut waiting = Vec::new();
    for _ in 0..4 {
        let (st, _, loc) = rep
            .upload_form("/contacts/import", &[], Some(("g.csv", file.as_bytes())))
            .await;
        assert_eq!(st, StatusCode::SEE_OTHER);
        waiting.push(loc.unwrap());
    }
    assert_eq!(
        rep.page(&waiting[0]).await.0,
        StatusCode::NOT_FOUND,
        "the oldest is dropped"
    );
    assert_eq!(rep.page(&waiting[1]).await.0, StatusCode::OK);
    assert_eq!(rep.page(&waiting[3]).await.0, StatusCode::OK);
    let other = app.user(Role::Rep).await;
    assert_eq!(
        other.page(&waiting[3]).await.0,
        StatusCode::NOT_FOUND,
        "an upload is its uploader's only"
    );
}
both!(page_flow_upload_preview_confirm_progress);

/// A job whose instance died after its first committed batch is taken over by the running
/// instance once its lease has run out, and goes on from the next row (each row once).
async fn an_interrupted_job_is_taken_over(app: &TestApp) {
    use crm_core::import::{self as imp, Encoding, OnDuplicate, Request};
    use crm_core::input::Field;
    use crm_core::unscoped::{import, user};
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
    let rep = app.user(Role::Rep).await;
    let mut file = String::from("First Name,Last Name,Email\n");
    for i in 0..2500 {
        file.push_str(&format!("P,N{i},p{i}@example.com\n"));
    }
    // what the dead instance committed: the first 1000 rows (imported here as a file of their own)
    let first: String = file.lines().take(1001).map(|l| format!("{l}\n")).collect();
    let v = import(&rep, "contacts", first.as_bytes(), &[]).await;
    assert_eq!(counts(&v), (1000, 1000, 0, 0, 0));
    // the dead instance's job: stored with its file, its first batch counted, its lease run out
    let me = user::Entity::find_by_id(rep.id())
        .one(app.db.unscoped())
        .await
        .unwrap()
        .unwrap();
    let actor = crm_core::accounts::users::actor_of(&me);
    let req = Request {
        kind: imp::Kind::Contacts,
        file_name: "people.csv".into(),
        encoding: Encoding::Auto,
        on_duplicate: OnDuplicate::Skip,
        overrides: vec![],
        owner: Field::Absent,
    };
    let p = imp::prepare(&app.db, &actor, req, file.as_bytes(), u64::MAX)
        .await
        .unwrap();
    let (job, _claim) = imp::job::create(&app.db, &actor, &p, file.as_bytes()).await.unwrap();
    import::Entity::update_many()
        .col_expr(import::Column::Status, Expr::value("running"))
        .col_expr(import::Column::Processed, Expr::value(1000))
        .col_expr(import::Column::Created, Expr::value(1000))
        .col_expr(import::Column::LastLine, Expr::value(1001))
        .col_expr(
            import::Column::LeaseUntil,
            Expr::value(Some(chrono::Utc::now() - chrono::Duration::seconds(1))),
        )
        .filter(import::Column::Id.eq(job.id))
        .exec(app.db.unscoped())
        .await
        .unwrap();
    let mut v = serde_json::Value::Null;
    for _ in 0..100 {
        v = rep.get(&format!("/api/imports/{}", job.id)).await.1;
        if v["data"]["status"] == "done" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(v["data"]["status"], "done", "taken over and finished: {v}");
    // resumed at row 1001: no row was read twice (a restart from the top would count 1000 skips)
    assert_eq!(counts(&v["data"]), (2500, 2500, 0, 0, 0), "{v}");
    assert_eq!(v["data"]["processed"], 2500, "{v}");
    // (the rep's exact total, from the tallies: a search counts only up to 2,000)
    let (_, list) = rep.get("/api/contacts?limit=1").await;
    assert_eq!(list["pagination"]["total"], 2500, "each row once");
    // the file is not kept after the job
    let files = crm_core::unscoped::import_file::Entity::find_by_id(job.id)
        .one(app.db.unscoped())
        .await
        .unwrap();
    assert!(files.is_none(), "the stored file is removed when the job ends");
}
both!(an_interrupted_job_is_taken_over);

//! Sign-in with OpenID Connect against a tiny identity provider of the test's own on
//! loopback (discovery, authorize, token, JWKS), driven step by step with redirects off:
//! start → the provider's authorize → the callback → the page it lands on. The same
//! server also plays GitHub (OAuth 2: authorize, access token, `/api/user/emails`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode as AxStatus, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use crm::config::Config;
use crm_core::Role;
use reqwest::StatusCode;
use ring::rand::SystemRandom;
use ring::signature::{self, EcdsaKeyPair, KeyPair, RsaKeyPair};
use serde_json::{Value, json};

use crate::support::{Client, TestApp};

const CLIENT_ID: &str = "crm-test";
const CLIENT_SECRET: &str = "test-client-secret-0123456789abcdef";
const GH_ID: &str = "gh-client";
const GH_SECRET: &str = "gh-secret";
/// The modulus of `fixtures/oidc_rsa_test_key.der` (a test-only RSAPrivateKey, exponent 65537), base64url.
const RSA_N: &str = "wmZWUP1LkpUDr1LoTNsUPVnW6v4FxPzrrO07PsktJOpcMHY1OVHq-eJzaNZ2BQi6K4xFuo8W2JA-coABrD2yo7oZPCBSdkP3zhWvjJebTiNIOufCaY7whr5P88a1huQo8d70XtAx-YPrpwW8lSFjI23uKUQjuTZ1lFH0T2EOJR2RpokqVUQHRKCLqGUtFrs04LONcTCzH2CE1eWqYUrnib4BC8kRi6ucNAs_pOY026mLN3JAEOoITwyVwNwyD4_6-7ybumyCEYItCgsuw7yqTNtrcwIU4YvpzMQpTRPF05GFt2GwGAYGucVh9WRShQx3_LcOsirY5s8bpD55Ez1-UQ";

/// Run an SSO test on SQLite and PostgreSQL, each with its own provider started first
/// (the app's configuration names it). An optional `|c: &mut crm::config::Config| …` changes more.
macro_rules! sso {
    ($name:ident $(, $extra:expr)?) => {
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                super::run(false, |_c| { $( ($extra)(_c); )? }, super::$name).await;
            }
            #[tokio::test]
            #[ignore = "PostgreSQL: run with `cargo test -- --ignored` and TEST_DATABASE_URL set"]
            async fn postgres() {
                super::run(true, |_c| { $( ($extra)(_c); )? }, super::$name).await;
            }
        }
    };
}

/// Start a provider, then the app configured for it (and by `extra`), past the first-run
/// setup page; run `test`.
async fn run(
    postgres: bool,
    extra: impl FnOnce(&mut crm::config::Config),
    test: impl AsyncFnOnce(&crate::support::TestApp, &Idp),
) {
    use crate::support::TestApp;
    let idp = Idp::start().await;
    let configure = |c: &mut crm::config::Config| {
        idp.configure(c);
        extra(c);
    };
    let app = if postgres {
        TestApp::postgres_with(configure).await
    } else {
        TestApp::sqlite_with(configure).await
    };
    app.user(crm_core::Role::Admin).await;
    test(&app, &idp).await;
    app.finish().await;
}

struct Grant {
    nonce: String,
    challenge: String,
    redirect_uri: String,
}

struct IdpState {
    base: String,
    grants: Mutex<HashMap<String, Grant>>,
    /// Claims of the next ID token, over the defaults.
    claims: Mutex<Value>,
    /// `HS256`, `RS256`, `ES256`, or `HS256-wrong` (signed with another secret).
    alg: Mutex<&'static str>,
    rsa: RsaKeyPair,
    /// Replaced by `rotate_ec` (a provider's key rotation).
    ec: Mutex<EcdsaKeyPair>,
    /// GitHub's answer to `/user/emails`, and the access tokens it gave.
    gh_emails: Mutex<Value>,
    gh_tokens: Mutex<Vec<String>>,
}

pub struct Idp {
    st: Arc<IdpState>,
}

impl Idp {
    pub async fn start() -> Idp {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let st = Arc::new(IdpState {
            base,
            grants: Mutex::new(HashMap::new()),
            claims: Mutex::new(json!({})),
            alg: Mutex::new("HS256"),
            rsa: RsaKeyPair::from_der(include_bytes!("fixtures/oidc_rsa_test_key.der")).unwrap(),
            ec: Mutex::new(ec_key()),
            gh_emails: Mutex::new(json!([])),
            gh_tokens: Mutex::new(vec![]),
        });
        let app = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/authorize", get(authorize))
            .route("/token", post(token))
            .route("/jwks", get(jwks))
            .route("/login/oauth/authorize", get(gh_authorize))
            .route("/login/oauth/access_token", post(gh_token))
            .route("/api/user/emails", get(gh_emails))
            .route("/api/user", get(gh_user))
            .with_state(st.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Idp { st }
    }

    pub fn configure(&self, c: &mut Config) {
        c.oidc_issuer = Some(self.st.base.clone());
        c.oidc_client_id = Some(CLIENT_ID.into());
        c.oidc_client_secret = Some(CLIENT_SECRET.into());
        c.oidc_allowed_domains = "example.org, Corp.Example".into();
        c.github_client_id = Some(GH_ID.into());
        c.github_client_secret = Some(GH_SECRET.into());
        c.github_url = self.st.base.clone();
        c.github_api_url = format!("{}/api", self.st.base);
    }

    /// GitHub's list of the account's e-mails.
    fn gh_emails(&self, emails: Value) {
        *self.st.gh_emails.lock().unwrap() = emails;
    }

    /// The next ID token says who signed in: `email`, and `extra` claims over the defaults.
    fn next(&self, email: &str, extra: Value) {
        let mut c =
            json!({"email": email, "email_verified": true, "name": "Ada Lovelace", "sub": format!("sub-{email}")});
        for (k, v) in extra.as_object().unwrap() {
            c[k] = v.clone();
        }
        *self.st.claims.lock().unwrap() = c;
    }

    fn rotate_ec(&self) {
        *self.st.ec.lock().unwrap() = ec_key();
    }

    fn alg(&self, alg: &'static str) {
        *self.st.alg.lock().unwrap() = alg;
    }
}

fn ec_key() -> EcdsaKeyPair {
    let rng = SystemRandom::new();
    let alg = &signature::ECDSA_P256_SHA256_FIXED_SIGNING;
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(alg, &rng).unwrap();
    EcdsaKeyPair::from_pkcs8(alg, pkcs8.as_ref(), &rng).unwrap()
}

async fn discovery(State(st): State<Arc<IdpState>>) -> Json<Value> {
    let b = &st.base;
    Json(json!({
        "issuer": b,
        "authorization_endpoint": format!("{b}/authorize"),
        "token_endpoint": format!("{b}/token"),
        "jwks_uri": format!("{b}/jwks"),
        "response_types_supported": ["code"],
        "id_token_signing_alg_values_supported": ["HS256", "RS256", "ES256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
    }))
}

/// Checks the request as a provider would, then sends the browser back with a code.
async fn authorize(State(st): State<Arc<IdpState>>, Query(q): Query<HashMap<String, String>>) -> Response {
    let ok = q.get("response_type").map(String::as_str) == Some("code")
        && q.get("client_id").map(String::as_str) == Some(CLIENT_ID)
        && q.get("scope").is_some_and(|s| s.split(' ').any(|x| x == "openid"))
        && q.get("code_challenge_method").map(String::as_str) == Some("S256");
    if !ok {
        return (AxStatus::BAD_REQUEST, "bad authorization request").into_response();
    }
    let code = uuid::Uuid::new_v4().simple().to_string();
    let redirect_uri = q["redirect_uri"].clone();
    st.grants.lock().unwrap().insert(
        code.clone(),
        Grant {
            nonce: q["nonce"].clone(),
            challenge: q["code_challenge"].clone(),
            redirect_uri: redirect_uri.clone(),
        },
    );
    let to = format!("{redirect_uri}?code={code}&state={}", q["state"]);
    (AxStatus::FOUND, [(header::LOCATION, to)]).into_response()
}

/// The code (once), the PKCE verifier, the redirect URI and the client's credentials
/// (HTTP Basic or in the form) for an ID token.
async fn token(
    State(st): State<Arc<IdpState>>,
    headers: HeaderMap,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let refuse = |e: &str| (AxStatus::BAD_REQUEST, Json(json!({"error": e}))).into_response();
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|v| STANDARD.decode(v).ok())
        .and_then(|v| String::from_utf8(v).ok());
    let client_ok = match basic {
        Some(b) => b == format!("{CLIENT_ID}:{CLIENT_SECRET}"),
        None => {
            f.get("client_id").map(String::as_str) == Some(CLIENT_ID)
                && f.get("client_secret").map(String::as_str) == Some(CLIENT_SECRET)
        }
    };
    if !client_ok {
        return refuse("invalid_client");
    }
    let Some(grant) = f.get("code").and_then(|c| st.grants.lock().unwrap().remove(c)) else {
        return refuse("invalid_grant");
    };
    let verifier = f.get("code_verifier").cloned().unwrap_or_default();
    if f.get("grant_type").map(String::as_str) != Some("authorization_code")
        || f.get("redirect_uri") != Some(&grant.redirect_uri)
        || URL_SAFE_NO_PAD.encode(ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes())) != grant.challenge
    {
        return refuse("invalid_grant");
    }
    let now = chrono::Utc::now().timestamp();
    let mut claims = json!({"iss": st.base, "aud": CLIENT_ID, "iat": now, "exp": now + 300, "nonce": grant.nonce});
    for (k, v) in st.claims.lock().unwrap().as_object().unwrap() {
        claims[k] = v.clone();
    }
    let alg = *st.alg.lock().unwrap();
    let id_token = sign(&st, alg, &claims);
    Json(json!({"access_token": "at", "token_type": "Bearer", "expires_in": 300, "id_token": id_token})).into_response()
}

async fn gh_authorize(State(st): State<Arc<IdpState>>, Query(q): Query<HashMap<String, String>>) -> Response {
    if q.get("client_id").map(String::as_str) != Some(GH_ID) {
        return (AxStatus::NOT_FOUND, "unknown client").into_response();
    }
    let code = uuid::Uuid::new_v4().simple().to_string();
    let redirect_uri = q["redirect_uri"].clone();
    st.grants.lock().unwrap().insert(
        code.clone(),
        Grant {
            nonce: String::new(),
            challenge: q["code_challenge"].clone(),
            redirect_uri: redirect_uri.clone(),
        },
    );
    let to = format!("{redirect_uri}?code={code}&state={}", q["state"]);
    (AxStatus::FOUND, [(header::LOCATION, to)]).into_response()
}

/// GitHub answers 200 with `{"error"}` for a bad code.
async fn gh_token(State(st): State<Arc<IdpState>>, Form(f): Form<HashMap<String, String>>) -> Json<Value> {
    let grant = f.get("code").and_then(|c| st.grants.lock().unwrap().remove(c));
    let verifier = f.get("code_verifier").cloned().unwrap_or_default();
    let ok = grant.is_some_and(|g| {
        f.get("redirect_uri") == Some(&g.redirect_uri)
            && URL_SAFE_NO_PAD.encode(ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes())) == g.challenge
    }) && f.get("client_id").map(String::as_str) == Some(GH_ID)
        && f.get("client_secret").map(String::as_str) == Some(GH_SECRET);
    if !ok {
        return Json(json!({"error": "bad_verification_code"}));
    }
    let token = format!("gho_{}", uuid::Uuid::new_v4().simple());
    st.gh_tokens.lock().unwrap().push(token.clone());
    Json(json!({"access_token": token, "token_type": "bearer", "scope": "read:user,user:email"}))
}

fn gh_authorized(st: &IdpState, headers: &HeaderMap) -> bool {
    let t = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    st.gh_tokens.lock().unwrap().iter().any(|x| x == t)
}

async fn gh_emails(State(st): State<Arc<IdpState>>, headers: HeaderMap) -> Response {
    if !gh_authorized(&st, &headers) {
        return AxStatus::UNAUTHORIZED.into_response();
    }
    Json(st.gh_emails.lock().unwrap().clone()).into_response()
}

async fn gh_user(State(st): State<Arc<IdpState>>, headers: HeaderMap) -> Response {
    if !gh_authorized(&st, &headers) {
        return AxStatus::UNAUTHORIZED.into_response();
    }
    Json(json!({"login": "octocat", "name": "Octo Cat"})).into_response()
}

async fn jwks(State(st): State<Arc<IdpState>>) -> Json<Value> {
    let ec = st.ec.lock().unwrap();
    let point = ec.public_key().as_ref();
    Json(json!({"keys": [
        {"kty": "RSA", "kid": "rsa1", "use": "sig", "alg": "RS256", "n": RSA_N, "e": "AQAB"},
        {"kty": "EC", "kid": "ec1", "use": "sig", "crv": "P-256",
         "x": URL_SAFE_NO_PAD.encode(&point[1..33]), "y": URL_SAFE_NO_PAD.encode(&point[33..65])},
    ]}))
}

fn sign(st: &IdpState, alg: &str, claims: &Value) -> String {
    let (name, kid) = match alg {
        "RS256" => ("RS256", "rsa1"),
        "ES256" => ("ES256", "ec1"),
        _ => ("HS256", "hs"),
    };
    let h = URL_SAFE_NO_PAD.encode(json!({"alg": name, "typ": "JWT", "kid": kid}).to_string());
    let p = URL_SAFE_NO_PAD.encode(claims.to_string());
    let input = format!("{h}.{p}");
    let rng = SystemRandom::new();
    let sig = match alg {
        "RS256" => {
            let mut out = vec![0u8; st.rsa.public().modulus_len()];
            st.rsa
                .sign(&signature::RSA_PKCS1_SHA256, &rng, input.as_bytes(), &mut out)
                .unwrap();
            out
        }
        "ES256" => st
            .ec
            .lock()
            .unwrap()
            .sign(&rng, input.as_bytes())
            .unwrap()
            .as_ref()
            .to_vec(),
        "HS256-wrong" => crm_core::webhooks::sign::hmac_sha256(b"not the secret", input.as_bytes()).to_vec(),
        _ => crm_core::webhooks::sign::hmac_sha256(CLIENT_SECRET.as_bytes(), input.as_bytes()).to_vec(),
    };
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
}

fn location(res: &reqwest::Response) -> String {
    res.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}

/// The first half: start → the provider (checked) → the callback URL it sends back, on
/// this app (the configured base URL is `http://localhost`).
async fn to_callback(app: &TestApp, c: &Client) -> String {
    let res = c
        .http
        .get(format!("{}/auth/oidc/start?next=%2Fcontacts", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FOUND);
    let auth = location(&res);
    let url = reqwest::Url::parse(&auth).unwrap();
    let q: HashMap<String, String> = url.query_pairs().into_owned().collect();
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["client_id"], CLIENT_ID);
    assert_eq!(q["redirect_uri"], "http://localhost/auth/oidc/callback");
    assert_eq!(q["scope"], "openid email profile");
    assert_eq!(q["code_challenge_method"], "S256");
    assert!(q["state"].len() >= 32 && q["nonce"].len() >= 32 && q["code_challenge"].len() == 43);
    let res = c.http.get(auth).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FOUND, "the provider took the request");
    let back = location(&res);
    let path = back.strip_prefix("http://localhost").expect("back to the redirect URI");
    format!("{}{path}", app.base)
}

/// The callback; answers where it sends the browser.
async fn callback(c: &Client, url: &str) -> String {
    let res = c.http.get(url).send().await.unwrap();
    assert!(res.status().is_redirection(), "{}", res.status());
    location(&res)
}

/// The whole flow for the provider's next identity.
async fn sso_flow(app: &TestApp, c: &Client) -> String {
    let url = to_callback(app, c).await;
    callback(c, &url).await
}

/// Ends on the sign-in page with `code`, whose sentence the page shows; no session.
async fn refused(c: &Client, to: &str, code: &str, sentence: &str) {
    assert_eq!(to, format!("/auth/signin?error={code}"));
    let (st, page) = c.page(to).await;
    assert_eq!(st, StatusCode::OK);
    assert!(page.contains(sentence), "{code}: {page}");
    let (st, _) = c.get("/api/auth/session").await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
}

async fn session_email(c: &Client) -> Value {
    let (st, v) = c.get("/api/auth/session").await;
    assert_eq!(st, StatusCode::OK, "{v}");
    v["data"]["user"].clone()
}

async fn success_creates_user(app: &TestApp, idp: &Idp) {
    let c = app.anonymous();
    idp.next("New.Person@Example.org", json!({}));
    let to = sso_flow(app, &c).await;
    assert_eq!(to, "/contacts", "back where the sign-in started");
    let u = session_email(&c).await;
    assert_eq!(u["email"], "new.person@example.org");
    assert_eq!(u["role"], "rep", "CRM_OIDC_DEFAULT_ROLE");
    assert_eq!(u["name"], "Ada Lovelace");
    let (st, _) = c.page("/contacts").await;
    assert_eq!(st, StatusCode::OK);
    // a second sign-in links the same account
    let c2 = app.anonymous();
    idp.next("new.person@example.org", json!({"name": "Someone Else"}));
    assert_eq!(sso_flow(app, &c2).await, "/contacts");
    assert_eq!(session_email(&c2).await["id"], u["id"]);
    // the history says how; an admin sees it
    let admin = app.user(Role::Admin).await;
    let (st, v) = admin
        .get(&format!("/api/admin/users/{}", u["id"].as_str().unwrap()))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    let h = v["data"]["signInHistory"].as_array().unwrap();
    assert_eq!(h.len(), 2);
    assert!(h.iter().all(|a| a["method"] == "oidc" && a["success"] == true), "{v}");
    let (_, page) = admin.page(&format!("/admin/users/{}", u["id"].as_str().unwrap())).await;
    assert!(page.contains(">SSO</span>"), "the user page marks SSO sign-ins");
    assert_eq!(v["data"]["lastSignInMethod"], "oidc");
    let (_, list) = admin.page("/admin/users").await;
    assert_eq!(
        list.matches(r#"<span class="badge">SSO</span>"#).count(),
        1,
        "the list marks its last SSO sign-in"
    );
}
sso!(success_creates_user);

async fn links_existing_user_case_insensitively(app: &TestApp, idp: &Idp) {
    // example.com is not an allowed domain: linking needs no allowance
    let m = app.user(Role::Manager).await;
    let c = app.anonymous();
    idp.next(&m.email.to_uppercase(), json!({}));
    assert_eq!(sso_flow(app, &c).await, "/contacts");
    let u = session_email(&c).await;
    assert_eq!(u["id"], m.id().to_string());
    assert_eq!(u["role"], "manager");
}
sso!(links_existing_user_case_insensitively);

async fn two_factor_still_asked(app: &TestApp, idp: &Idp) {
    let rep = app.user(Role::Rep).await;
    let (_, v) = rep.post("/api/auth/2fa/enable", json!({})).await;
    let secret = v["data"]["secret"].as_str().unwrap().to_string();
    let bytes = totp_rs::Secret::Encoded(secret).to_bytes().unwrap();
    let totp = totp_rs::TOTP::new_unchecked(totp_rs::Algorithm::SHA1, 6, 0, 30, bytes, None, String::new());
    let now = chrono::Utc::now().timestamp() as u64;
    let (st, _) = rep
        .post("/api/auth/2fa/verify-setup", json!({"code": totp.generate(now)}))
        .await;
    assert_eq!(st, StatusCode::OK);
    let c = app.anonymous();
    idp.next(&rep.email, json!({}));
    let to = sso_flow(app, &c).await;
    assert_eq!(to, "/auth/verify-2fa?next=%2Fcontacts");
    let (st, _) = c.get("/api/auth/session").await;
    assert_eq!(st, StatusCode::UNAUTHORIZED, "half-open until the second factor");
    let (st, v) = c
        .post("/api/auth/2fa/verify", json!({"code": totp.generate(now + 30)}))
        .await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(session_email(&c).await["email"], rep.email.as_str());
}
sso!(two_factor_still_asked);

async fn rs256_and_es256_signatures(app: &TestApp, idp: &Idp) {
    for alg in ["RS256", "ES256"] {
        idp.alg(alg);
        let c = app.anonymous();
        idp.next("keys@corp.example", json!({}));
        assert_eq!(sso_flow(app, &c).await, "/contacts", "{alg}");
        assert_eq!(session_email(&c).await["email"], "keys@corp.example");
    }
    // the provider rotates its key: the kept JWKS no longer fits and is read again
    idp.rotate_ec();
    let c = app.anonymous();
    idp.next("keys@corp.example", json!({}));
    assert_eq!(sso_flow(app, &c).await, "/contacts", "after rotation");
}
sso!(rs256_and_es256_signatures);

async fn state_mismatch_unknown_and_expired(app: &TestApp, idp: &Idp) {
    idp.next("state@example.org", json!({}));
    let c = app.anonymous();
    let url = to_callback(app, &c).await;
    // another state than the one this browser started with
    let forged = url.replace("state=", "state=x");
    let to = callback(&c, &forged).await;
    refused(&c, &to, "sso-state", "could not be matched to this browser").await;
    // a browser that did not start it (no cookie)
    let other = app.anonymous();
    let to = callback(&other, &url).await;
    refused(&other, &to, "sso-state", "could not be matched to this browser").await;
    // older than ten minutes
    let c = app.anonymous();
    let url = to_callback(app, &c).await;
    {
        use sea_orm::{EntityTrait, sea_query::Expr};
        crm_core::unscoped::oidc_state::Entity::update_many()
            .col_expr(
                crm_core::unscoped::oidc_state::Column::ExpiresAt,
                Expr::value(chrono::Utc::now() - chrono::Duration::seconds(1)),
            )
            .exec(app.db.unscoped())
            .await
            .unwrap();
    }
    let to = callback(&c, &url).await;
    refused(&c, &to, "sso-expired", "took too long or was already used").await;
    // single use: a finished sign-in cannot be replayed, even with its cookie
    let c = app.anonymous();
    let url = to_callback(app, &c).await;
    let state = url.split("state=").nth(1).unwrap().to_string();
    assert_eq!(callback(&c, &url).await, "/contacts");
    let replay = app.anonymous();
    let res = replay
        .http
        .get(&url)
        .header("cookie", format!("crm_oidc={state}"))
        .send()
        .await
        .unwrap();
    refused(&replay, &location(&res), "sso-expired", "already used").await;
}
sso!(state_mismatch_unknown_and_expired);

async fn token_failures(app: &TestApp, idp: &Idp) {
    let now = chrono::Utc::now().timestamp();
    for (extra, code, sentence) in [
        (json!({"exp": now - 3600}), "sso-token-expired", "token has expired"),
        (
            json!({"aud": "someone-else"}),
            "sso-audience",
            "was not issued for this CRM",
        ),
        (
            json!({"aud": ["someone-else", "another"]}),
            "sso-audience",
            "was not issued for this CRM",
        ),
        (
            json!({"nonce": "not-the-nonce"}),
            "sso-nonce",
            "does not belong to this sign-in",
        ),
        (
            json!({"iss": "https://evil.example"}),
            "sso-token",
            "could not be verified",
        ),
        (
            json!({"email_verified": false}),
            "sso-unverified",
            "not verified by the identity provider",
        ),
    ] {
        idp.next("token@example.org", extra);
        let c = app.anonymous();
        let to = sso_flow(app, &c).await;
        refused(&c, &to, code, sentence).await;
    }
    // a signature made without the client secret
    idp.alg("HS256-wrong");
    idp.next("token@example.org", json!({}));
    let c = app.anonymous();
    let to = sso_flow(app, &c).await;
    refused(&c, &to, "sso-token", "could not be verified").await;
    // none of these made an account
    let admin = app.user(Role::Admin).await;
    let (_, v) = admin.get("/api/admin/users?search=token%40example.org").await;
    assert!(!v.to_string().contains("token@example.org"), "{v}");
}
sso!(token_failures);

async fn domain_not_allowed_and_deactivated(app: &TestApp, idp: &Idp) {
    idp.next("stranger@elsewhere.net", json!({}));
    let c = app.anonymous();
    let to = sso_flow(app, &c).await;
    refused(&c, &to, "sso-domain", "There is no account for this email address").await;
    let rep = app.user(Role::Rep).await;
    crm_core::accounts::users::deactivate(&app.db, &rep.email)
        .await
        .unwrap();
    idp.next(&rep.email, json!({}));
    let c = app.anonymous();
    let to = sso_flow(app, &c).await;
    refused(&c, &to, "sso-inactive", "Account is inactive").await;
    // the refusal is in the user's history
    let admin = app.user(Role::Admin).await;
    let (_, v) = admin.get(&format!("/api/admin/users/{}", rep.id())).await;
    let last = &v["data"]["signInHistory"][0];
    assert_eq!(last["method"], "oidc", "{v}");
    assert_eq!(last["success"], false);
    assert_eq!(last["failureReason"], "Account inactive");
}
sso!(domain_not_allowed_and_deactivated);

async fn provider_error_is_shown(app: &TestApp, _idp: &Idp) {
    let c = app.anonymous();
    let to = callback(
        &c,
        &format!("{}/auth/oidc/callback?error=access_denied&state=x", app.base),
    )
    .await;
    refused(&c, &to, "sso-provider", "refused the sign-in").await;
}
sso!(provider_error_is_shown);

async fn signin_page_shows_the_button(app: &TestApp, _idp: &Idp) {
    let c = app.anonymous();
    let (_, page) = c.page("/auth/signin?next=%2Fdeals").await;
    assert!(page.contains(r#"href="/auth/oidc/start?next=%2Fdeals""#), "{page}");
    assert!(page.contains("Log in with Acme"));
    assert!(page.contains(r#"name="password""#), "the password form stays");
}
sso!(signin_page_shows_the_button, |c: &mut crm::config::Config| c
    .oidc_label =
    "Log in with Acme".into());

async fn oidc_only_keeps_passwords_for_admins(app: &TestApp, _idp: &Idp) {
    let c = app.anonymous();
    let (_, page) = c.page("/auth/signin").await;
    assert!(!page.contains(r#"name="password""#), "no password form: {page}");
    assert!(page.contains("Sign in with a password (admins)"));
    let (_, page) = c.page("/auth/signin?password=1").await;
    assert!(page.contains(r#"name="password""#));
    // a rep's right password is refused, an admin's works
    let rep_email = "onlyrep@example.com";
    crm_core::accounts::users::create(
        &app.db,
        crm_core::accounts::users::NewUser {
            email: rep_email.into(),
            name: "Only Rep".into(),
            role: Role::Rep,
            password: crate::support::PASSWORD.into(),
            verified: true,
            is_demo: false,
        },
    )
    .await
    .unwrap();
    let (st, v) = c
        .post(
            "/api/auth/signin",
            json!({"email": rep_email, "password": crate::support::PASSWORD}),
        )
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
    assert!(v["error"].as_str().unwrap().contains("single sign-on"));
    let admin = app.user(Role::Admin).await;
    assert_eq!(session_email(&admin).await["role"], "admin");
}
sso!(oidc_only_keeps_passwords_for_admins, |c: &mut crm::config::Config| c
    .oidc_only =
    true);

/// GitHub: start → authorize → callback; answers where the callback sends the browser.
async fn github_flow(app: &TestApp, c: &Client) -> String {
    let res = c
        .http
        .get(format!("{}/auth/github/start?next=%2Fdeals", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FOUND);
    let auth = location(&res);
    let q: HashMap<String, String> = reqwest::Url::parse(&auth).unwrap().query_pairs().into_owned().collect();
    assert_eq!(q["client_id"], GH_ID);
    assert_eq!(q["redirect_uri"], "http://localhost/auth/github/callback");
    assert!(q["scope"].contains("user:email"));
    let res = c.http.get(auth).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::FOUND);
    let back = location(&res);
    let path = back.strip_prefix("http://localhost").expect("back to the redirect URI");
    callback(c, &format!("{}{path}", app.base)).await
}

async fn github_primary_verified_email(app: &TestApp, idp: &Idp) {
    let c = app.anonymous();
    let (_, page) = c.page("/auth/signin").await;
    assert!(
        page.contains(r#"href="/auth/github/start?next=%2F""#),
        "the GitHub button"
    );
    idp.gh_emails(json!([
        {"email": "other@elsewhere.net", "primary": false, "verified": true},
        {"email": "Octo@Corp.Example", "primary": true, "verified": true},
    ]));
    assert_eq!(github_flow(app, &c).await, "/deals");
    let u = session_email(&c).await;
    assert_eq!(u["email"], "octo@corp.example");
    assert_eq!(u["name"], "Octo Cat");
    assert_eq!(u["role"], "rep");
    let admin = app.user(Role::Admin).await;
    let (_, v) = admin
        .get(&format!("/api/admin/users/{}", u["id"].as_str().unwrap()))
        .await;
    assert_eq!(v["data"]["signInHistory"][0]["method"], "github", "{v}");
    // an unverified primary address is refused, whatever the others
    idp.gh_emails(json!([
        {"email": "octo@corp.example", "primary": true, "verified": false},
        {"email": "octo2@corp.example", "primary": false, "verified": true},
    ]));
    let c = app.anonymous();
    let to = github_flow(app, &c).await;
    refused(&c, &to, "sso-unverified", "not verified by the identity provider").await;
    // a GitHub state is no good at the OIDC callback
    let c = app.anonymous();
    let res = c
        .http
        .get(format!("{}/auth/github/start", app.base))
        .send()
        .await
        .unwrap();
    let q: HashMap<String, String> = reqwest::Url::parse(&location(&res))
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect();
    let to = callback(
        &c,
        &format!("{}/auth/oidc/callback?code=x&state={}", app.base, q["state"]),
    )
    .await;
    refused(&c, &to, "sso-expired", "took too long or was already used").await;
}
sso!(github_primary_verified_email);

async fn starts_are_rate_limited(app: &TestApp, _idp: &Idp) {
    let c = app.anonymous();
    for _ in 0..60 {
        let res = c
            .http
            .get(format!("{}/auth/oidc/start", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FOUND);
    }
    let res = c
        .http
        .get(format!("{}/auth/github/start", app.base))
        .send()
        .await
        .unwrap();
    let to = location(&res);
    refused(&c, &to, "sso-limited", "Too many sign-in attempts").await;
}
sso!(starts_are_rate_limited);

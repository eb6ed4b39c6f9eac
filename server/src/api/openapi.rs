//! The OpenAPI 3.1 document, generated from the handlers' annotations and
//! the wire types, and a plain page that lists it for people.

use axum::{
    http::header,
    response::{Html, IntoResponse, Response},
    Json,
};
use utoipa::{
    openapi::path::ParameterIn,
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
    Modify, OpenApi,
};

use super::{contracts, groups, imports, invitations, people, Problem};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Muster API",
        version = "1",
        description = "Imports, invitations, people and groups of one organization, with an API token created on Settings → API (Authorization: Bearer mst_…). Refusals are application/problem+json; lists are paged with next_cursor."
    ),
    paths(
        groups::list, groups::get, groups::create,
        contracts::list, contracts::get, contracts::create,
        imports::list, imports::create, imports::upload, imports::dry_run, imports::get, imports::rows,
        imports::failed_csv, imports::confirm, imports::cancel,
        invitations::list, invitations::send, invitations::resend, invitations::cancel,
        people::list, people::get, people::send_activation,
    ),
    components(schemas(Problem)),
    modifiers(&BearerToken),
    security(("token" = [])),
    tags(
        (name = "imports", description = "Rows checked, planned and run as the wizard runs them"),
        (name = "invitations", description = "Invitations into groups and their emails"),
        (name = "people", description = "The organization's people"),
        (name = "groups", description = "What learners join"),
        (name = "contracts", description = "Seats that program invitations use"),
    )
)]
pub struct ApiDoc;

struct BearerToken;

impl Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("mst_…")
                    .build(),
            ),
        );
    }
}

/// Where an answer's ids lead (OpenAPI links): a client, or a test
/// generator, follows a created import to its rows, a listed invitation to
/// its resend. Added to the JSON because utoipa 5.5 writes a link's
/// `operationId` as `operation_id`.
fn with_links(mut document: serde_json::Value) -> serde_json::Value {
    let follow: [(&str, &str, &str, &str, &[&str]); 5] = [
        (
            "/api/v1/imports",
            "post",
            "201",
            "$response.body#/id",
            &[
                "getImport",
                "listImportRows",
                "getFailedRowsCsv",
                "confirmImport",
                "cancelImport",
            ],
        ),
        (
            "/api/v1/groups",
            "post",
            "201",
            "$response.body#/id",
            &["getGroup"],
        ),
        (
            "/api/v1/contracts",
            "post",
            "201",
            "$response.body#/id",
            &["getContract"],
        ),
        (
            "/api/v1/invitations",
            "get",
            "200",
            "$response.body#/items/0/id",
            &["resendInvitation", "cancelInvitation"],
        ),
        (
            "/api/v1/people",
            "get",
            "200",
            "$response.body#/items/0/id",
            &["getPerson", "sendActivation"],
        ),
    ];
    for (path, method, status, id, targets) in follow {
        let links: serde_json::Map<String, serde_json::Value> = targets
            .iter()
            .map(|target| {
                (
                    (*target).to_owned(),
                    serde_json::json!({"operationId": target, "parameters": {"id": id}}),
                )
            })
            .collect();
        if let Some(response) = document
            .pointer_mut(&format!(
                "/paths/{}/{method}/responses/{status}",
                path.replace('/', "~1")
            ))
            .and_then(|response| response.as_object_mut())
        {
            response.insert("links".to_owned(), links.into());
        }
    }
    document
}

/// `GET /api/v1/openapi.json`: public, so tools can read it before a token exists.
pub async fn document() -> Response {
    (
        [(header::CACHE_CONTROL, "no-cache")],
        Json(with_links(
            serde_json::to_value(ApiDoc::openapi()).unwrap_or_default(),
        )),
    )
        .into_response()
}

/// `GET /api/v1/docs`: every operation, its parameters and what it answers,
/// on one page without scripts.
pub async fn docs_page() -> Html<String> {
    let doc = ApiDoc::openapi();
    let mut body = String::new();
    for (path, item) in &doc.paths.paths {
        let operations = [
            ("GET", &item.get),
            ("POST", &item.post),
            ("PUT", &item.put),
            ("PATCH", &item.patch),
            ("DELETE", &item.delete),
        ];
        for (method, operation) in operations {
            let Some(operation) = operation else { continue };
            body.push_str(&format!(
                "<section><h2><code>{method} {}</code></h2>",
                escape(path)
            ));
            for text in [&operation.summary, &operation.description]
                .into_iter()
                .flatten()
            {
                body.push_str(&format!("<p>{}</p>", escape(text)));
            }
            if let Some(parameters) = &operation.parameters {
                body.push_str("<ul>");
                for parameter in parameters {
                    body.push_str(&format!(
                        "<li><code>{}</code> ({}){}</li>",
                        escape(&parameter.name),
                        match parameter.parameter_in {
                            ParameterIn::Path => "path",
                            ParameterIn::Query => "query",
                            ParameterIn::Header => "header",
                            ParameterIn::Cookie => "cookie",
                        },
                        parameter
                            .description
                            .as_deref()
                            .map(|d| format!(": {}", escape(d)))
                            .unwrap_or_default()
                    ));
                }
                body.push_str("</ul>");
            }
            let answers: Vec<String> = operation
                .responses
                .responses
                .keys()
                .map(|status| escape(status))
                .collect();
            body.push_str(&format!("<p>Answers: {}</p></section>", answers.join(", ")));
        }
    }
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Muster API v1</title><link rel=\"stylesheet\" href=\"{}\"></head>\
         <body><main class=\"content\"><h1>Muster API v1</h1>\
         <p class=\"lead\">{}</p><p>The machine-readable document: \
         <a href=\"/api/v1/openapi.json\">/api/v1/openapi.json</a> (OpenAPI 3.1).</p>{body}</main></body></html>",
        app::assets::stylesheet_href(),
        escape(doc.info.description.as_deref().unwrap_or_default())
    ))
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

//! `/api/v1/invitations`: who was invited where, and what became of it.

use app::{
    api_tokens::Need,
    invitations::{service, InvitationFilter, InvitationRow, InviteResult},
    mail::DeliveryState,
};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{
    extract::{ApiJson, ApiQuery, Id},
    next_cursor, page_of, Caller, Page, Problem,
};

/// The most addresses one `POST /api/v1/invitations` takes (the admin
/// page's manual limit); more go through an import.
const SEND_LIMIT: usize = 500;

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Invitation {
    pub id: i64,
    pub email: String,
    pub group_name: String,
    /// pending, active (accepted), cancelled or expired.
    pub status: String,
    /// Unix seconds.
    pub expires_at: i64,
    pub created_at: i64,
    pub resend_count: i64,
    /// When the group's schedule reminds it next, if it will.
    pub next_reminder_at: Option<i64>,
    /// none, queued, sent or failed: its latest email.
    pub email_delivery: String,
    /// The latest email's state in words.
    pub email_delivery_detail: String,
}

pub(super) fn delivery_word(state: &DeliveryState) -> &'static str {
    match state {
        DeliveryState::None => "none",
        DeliveryState::Queued { .. } => "queued",
        DeliveryState::Sent { .. } => "sent",
        DeliveryState::Failed { .. } => "failed",
    }
}

impl From<InvitationRow> for Invitation {
    fn from(row: InvitationRow) -> Invitation {
        Invitation {
            id: row.id,
            email: row.email,
            group_name: row.group_name,
            status: row.status.as_str().to_owned(),
            expires_at: row.expires_at,
            created_at: row.created_at,
            resend_count: row.resend_count,
            next_reminder_at: row.next_reminder_at,
            email_delivery: delivery_word(&row.delivery).to_owned(),
            email_delivery_detail: row.delivery.label(),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InvitationsQuery {
    /// pending, active, cancelled or expired; absent for all.
    pub status: Option<String>,
    /// Part of the email address.
    pub search: Option<String>,
    /// Only invitations into this group.
    pub group_id: Option<i64>,
    /// Only invitations made by this import.
    pub import_id: Option<i64>,
    /// queued, sent or failed: where the latest email stands.
    pub email_delivery: Option<String>,
    /// From `next_cursor`; absent for the first page.
    pub cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/invitations", operation_id = "listInvitations", tag = "invitations", params(InvitationsQuery),
    responses(
        (status = 200, body = Page<Invitation>),
        (status = "4XX", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list(
    caller: Caller,
    ApiQuery(query): ApiQuery<InvitationsQuery>,
) -> Result<Json<Page<Invitation>>, Problem> {
    let user = caller.may(Need::Read)?;
    let page = page_of(query.cursor.as_deref())?;
    let filter = InvitationFilter::new(
        query.status.unwrap_or_default(),
        query.search.unwrap_or_default(),
        query.group_id.unwrap_or(0),
        query.import_id.unwrap_or(0),
    )
    .with_delivery(query.email_delivery.unwrap_or_default());
    let found = service::list(&caller.state.db, user.organization_id, &filter, page).await?;
    Ok(Json(Page {
        next_cursor: next_cursor(page, found.page_size, found.total),
        total: found.total,
        items: found.rows.into_iter().map(Invitation::from).collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendInvitations {
    pub group_id: i64,
    /// Up to 500 addresses.
    #[schema(max_items = 500)]
    pub emails: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SendOutcome {
    pub email: String,
    /// invited, already_member, already_invited or invalid.
    pub result: String,
    /// Why an address was refused.
    pub reason: Option<String>,
}

/// Invites addresses into a group, each emailed a link.
#[utoipa::path(post, path = "/api/v1/invitations", operation_id = "sendInvitations", tag = "invitations",
    request_body = SendInvitations,
    responses(
        (status = 200, body = Vec<SendOutcome>),
        (status = "4XX", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn send(
    caller: Caller,
    ApiJson(request): ApiJson<SendInvitations>,
) -> Result<Json<Vec<SendOutcome>>, Problem> {
    let user = caller.may(Need::WriteInvitations)?;
    if request.emails.len() > SEND_LIMIT {
        return Err(Problem::invalid(
            "emails",
            format!("Send at most {SEND_LIMIT} addresses at once; import a file for more."),
        ));
    }
    let outcomes =
        service::invite(&caller.state.db, user, request.group_id, &request.emails).await?;
    Ok(Json(
        outcomes
            .into_iter()
            .map(|outcome| {
                let (result, reason) = match outcome.result {
                    InviteResult::Invited => ("invited", None),
                    InviteResult::AlreadyMember => ("already_member", None),
                    InviteResult::AlreadyInvited => ("already_invited", None),
                    InviteResult::Invalid(reason) => ("invalid", Some(reason)),
                };
                SendOutcome {
                    email: outcome.email,
                    result: result.to_owned(),
                    reason,
                }
            })
            .collect(),
    ))
}

/// Sends a pending or expired invitation again, with a new link.
#[utoipa::path(post, path = "/api/v1/invitations/{id}/resend", operation_id = "resendInvitation", tag = "invitations",
    params(("id" = i64, Path, description = "The invitation's id")),
    responses(
        (status = 204, description = "Resent"),
        (status = "4XX", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn resend(caller: Caller, Id(id): Id) -> Result<axum::http::StatusCode, Problem> {
    let user = caller.may(Need::WriteInvitations)?;
    service::resend(&caller.state.db, user, id).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// Cancels a pending invitation: its link stops working.
#[utoipa::path(post, path = "/api/v1/invitations/{id}/cancel", operation_id = "cancelInvitation", tag = "invitations",
    params(("id" = i64, Path, description = "The invitation's id")),
    responses(
        (status = 204, description = "Cancelled"),
        (status = "4XX", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn cancel(caller: Caller, Id(id): Id) -> Result<axum::http::StatusCode, Problem> {
    let user = caller.may(Need::WriteInvitations)?;
    service::cancel(&caller.state.db, user, id).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

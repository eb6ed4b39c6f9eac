//! Settings → API: the organization's API tokens. Create one (named and
//! scoped, its secret shown once), see when each was last used, revoke.

use crate::server_data::server_data;
use leptos::prelude::*;
use leptos_meta::Title;

use super::{action_error, ErrorMessage};
use crate::{
    api_tokens::{
        list_api_tokens, CreateApiToken, RevokeApiToken, Scope, TokenSummary, NAME_MAX_CHARS,
    },
    audit::format_when,
};

#[component]
pub fn ApiTokensPage() -> impl IntoView {
    let create = ServerAction::<CreateApiToken>::new();
    let revoke = ServerAction::<RevokeApiToken>::new();
    let tokens = server_data(
        move || (create.version().get(), revoke.version().get()),
        |_| list_api_tokens(),
    );
    view! {
        <Title text="API tokens · Muster" />
        <h1>"API tokens"</h1>
        <p class="lead">
            "Tokens let another system — a student information system, an LMS, an identity provider — "
            "use Muster's API as you, in this organization. Send one as "
            <code>"Authorization: Bearer …"</code>". The API is described at "
            <a href="/api/v1/docs" rel="external">"/api/v1/docs"</a>"."
        </p>
        <section class="card" aria-labelledby="new-token">
            <h2 id="new-token">"New token"</h2>
            <ActionForm action=create>
                <label for="token-name">"Name"</label>
                <input id="token-name" name="name" required maxlength=NAME_MAX_CHARS.to_string()
                    aria-describedby="token-name-help" />
                <p id="token-name-help" class="help">"What uses it, like “SIS nightly sync”."</p>
                <fieldset>
                    <legend>"What it may do"</legend>
                    {Scope::ALL.iter().map(|scope| {
                        let id = format!("scope-{}", scope.as_str());
                        view! {
                            <div class="choice">
                                <input type="radio" name="scope" id=id.clone() value=scope.as_str()
                                    checked=*scope == Scope::ReadOnly />
                                <label for=id>
                                    <strong>{scope.label()}</strong>" — "{scope.explanation()}
                                </label>
                            </div>
                        }
                    }).collect_view()}
                </fieldset>
                {action_error(create.value())}
                <button type="submit" class="primary" disabled=move || create.pending().get()>"Create token"</button>
            </ActionForm>
            {move || create.value().get().and_then(Result::ok).map(|created| view! {
                <div class="success" role="status">
                    <p>
                        <strong>{format!("Token “{}” created.", created.name)}</strong>
                        " Copy it now: it is not shown again."
                    </p>
                    <label for="new-token-value">"Token"</label>
                    <input id="new-token-value" readonly value=created.token class="secret" />
                </div>
            })}
        </section>
        <section aria-labelledby="tokens-list">
            <h2 id="tokens-list">"Tokens"</h2>
            {action_error(revoke.value())}
            <Suspense fallback=|| view! { <p class="loading">"Loading tokens…"</p> }>
                {move || Suspend::new(async move {
                    match tokens.await {
                        Err(error) => view! { <ErrorMessage error /> }.into_any(),
                        Ok(list) if list.is_empty() => view! {
                            <p class="empty">"No tokens yet. Create one above for the first system that should reach Muster."</p>
                        }.into_any(),
                        Ok(list) => view! {
                            <table>
                                <thead>
                                    <tr>
                                        <th scope="col">"Name"</th>
                                        <th scope="col">"Scope"</th>
                                        <th scope="col">"Token"</th>
                                        <th scope="col">"Created"</th>
                                        <th scope="col">"Last used"</th>
                                        <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {list.into_iter().map(|token| view! { <TokenRow token revoke /> }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn TokenRow(token: TokenSummary, revoke: ServerAction<RevokeApiToken>) -> impl IntoView {
    let active = token.is_active();
    let label = format!("Revoke {}", token.name);
    view! {
        <tr class:revoked=!active>
            <th scope="row">{token.name.clone()}</th>
            <td>{token.scope.label()}</td>
            <td><code>{token.hint.clone()}</code></td>
            <td>{format!("{} by {}", format_when(token.created_at), token.created_by)}</td>
            <td>{token.last_used_at.map(format_when).unwrap_or_else(|| "Never".to_owned())}</td>
            <td>
                {match token.revoked_at {
                    Some(at) => view! { <span>{format!("Revoked {}", format_when(at))}</span> }.into_any(),
                    None => view! {
                        <ActionForm action=revoke>
                            <input type="hidden" name="id" value=token.id />
                            <button type="submit" class="danger" aria-label=label
                                disabled=move || revoke.pending().get()>"Revoke"</button>
                        </ActionForm>
                    }.into_any(),
                }}
            </td>
        </tr>
    }
}

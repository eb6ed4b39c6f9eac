//! `/dev/mailbox`: where emails go when no SMTP host is configured. Admins see
//! their organization's messages; nothing leaves the machine.

use crate::server_data::server_data;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use super::ErrorMessage;
use crate::{
    error::AppError,
    mail::{get_mailbox_message, list_mailbox, templates::format_date},
};

#[component]
fn Banner() -> impl IntoView {
    view! {
        <p class="banner" role="note">
            "Emails are not leaving this machine: no SMTP server is configured, so every message lands here."
        </p>
    }
}

#[component]
pub fn MailboxPage() -> impl IntoView {
    let messages = server_data(|| (), |_| list_mailbox());
    view! {
        <Title text="Dev mailbox · Muster" />
        <main class="content">
            <p><a href="/admin/invitations">"← Back to Muster"</a></p>
            <h1>"Dev mailbox"</h1>
            <Banner />
            <Suspense fallback=|| view! { <p class="loading">"Loading messages…"</p> }>
                {move || Suspend::new(async move {
                    match messages.await {
                        Err(error) => view! { <ErrorMessage error /> }.into_any(),
                        Ok(list) if list.is_empty() => view! { <p class="empty">"No messages yet."</p> }.into_any(),
                        Ok(list) => view! {
                            <table aria-label="Messages">
                                <thead><tr><th scope="col">"To"</th><th scope="col">"Subject"</th><th scope="col">"Kind"</th><th scope="col">"Date"</th></tr></thead>
                                <tbody>
                                    {list.into_iter().map(|message| view! {
                                        <tr>
                                            <td>{message.to_email}</td>
                                            <td><a href=format!("/dev/mailbox/{}", message.id) rel="external">{message.subject}</a></td>
                                            <td>{message.kind}</td>
                                            <td>{format_date(message.created_at)}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any(),
                    }
                })}
            </Suspense>
        </main>
    }
}

/// Splits text into plain runs and http(s) links.
fn linkify(text: &str) -> Vec<(bool, String)> {
    let mut parts = Vec::new();
    let mut rest = text;
    while let Some(start) = rest
        .find("http://")
        .into_iter()
        .chain(rest.find("https://"))
        .min()
    {
        if start > 0 {
            parts.push((false, rest[..start].to_owned()));
        }
        let end = rest[start..]
            .find(|c: char| c.is_whitespace() || c == '<' || c == '>' || c == '"')
            .map(|end| start + end)
            .unwrap_or(rest.len());
        parts.push((true, rest[start..end].to_owned()));
        rest = &rest[end..];
    }
    if !rest.is_empty() {
        parts.push((false, rest.to_owned()));
    }
    parts
}

#[component]
pub fn MailboxMessagePage() -> impl IntoView {
    let params = use_params_map();
    let message = server_data(
        move || params.read().get("id"),
        |id| async move {
            match id.and_then(|id| id.parse::<i64>().ok()) {
                Some(id) => get_mailbox_message(id).await,
                None => Err(AppError::NotFound),
            }
        },
    );
    view! {
        <Title text="Message · Dev mailbox · Muster" />
        <main class="content">
            <p><a href="/dev/mailbox" rel="external">"← All messages"</a></p>
            <Banner />
            <Suspense fallback=|| view! { <p class="loading">"Loading message…"</p> }>
                {move || Suspend::new(async move {
                    match message.await {
                        Err(error) => view! { <ErrorMessage error /> }.into_any(),
                        Ok(message) => view! {
                            <h1>{message.subject.clone()}</h1>
                            <dl class="headers">
                                <dt>"To"</dt><dd>{message.to_email.clone()}</dd>
                                <dt>"Kind"</dt><dd>{message.kind.clone()}</dd>
                                <dt>"Message-ID"</dt><dd>{message.message_id.clone().unwrap_or_default()}</dd>
                            </dl>
                            <section aria-labelledby="text-version">
                                <h2 id="text-version">"Text version"</h2>
                                <pre class="mail-text">
                                    {linkify(&message.text_body).into_iter().map(|(is_link, part)| if is_link {
                                        // rel=external: a full page load, so the page's own headers apply.
                                        { let href = part.clone(); view! { <a href=href rel="external">{part}</a> }.into_any() }
                                    } else {
                                        part.into_any()
                                    }).collect_view()}
                                </pre>
                            </section>
                            <section aria-labelledby="html-version">
                                <h2 id="html-version">"HTML version"</h2>
                                // Sandboxed: no scripts; links open in a new tab.
                                <iframe
                                    title="HTML version of the message"
                                    class="mail-html"
                                    sandbox="allow-popups allow-popups-to-escape-sandbox"
                                    srcdoc=format!("<base target=\"_blank\">{}", message.html_body)
                                ></iframe>
                            </section>
                        }.into_any(),
                    }
                })}
            </Suspense>
        </main>
    }
}

#[cfg(test)]
mod tests {
    use super::linkify;

    #[test]
    fn links_are_found_in_text() {
        let parts = linkify("Open:\nhttp://x.test/invite/abc\n\nthen https://y.test");
        assert_eq!(
            parts,
            vec![
                (false, "Open:\n".to_owned()),
                (true, "http://x.test/invite/abc".to_owned()),
                (false, "\n\nthen ".to_owned()),
                (true, "https://y.test".to_owned()),
            ]
        );
    }
}

use crate::server_data::server_data;
use leptos::prelude::*;
use leptos_meta::Title;

use super::{action_error, ErrorMessage};
use crate::contracts::{list_contracts, CreateContract};

#[component]
pub fn ContractsPage() -> impl IntoView {
    let create = ServerAction::<CreateContract>::new();
    let contracts = server_data(move || create.version().get(), |_| list_contracts());
    view! {
        <Title text="Contracts · Muster" />
        <h1>"Contracts"</h1>
        <p class="lead">"A contract is a pool of seats that learners are invited under."</p>
        <Suspense fallback=|| view! { <p class="loading">"Loading contracts…"</p> }>
            {move || Suspend::new(async move {
                match contracts.await {
                    Err(error) => view! { <ErrorMessage error /> }.into_any(),
                    Ok(list) if list.is_empty() => view! {
                        <p class="empty">"No contracts yet. Add one below to invite learners against a seat limit."</p>
                    }.into_any(),
                    Ok(list) => view! {
                        <table>
                            <thead><tr><th scope="col">"Name"</th><th scope="col">"Seats"</th><th scope="col">"Ends"</th></tr></thead>
                            <tbody>
                                {list.into_iter().map(|contract| view! {
                                    <tr>
                                        <td>{contract.name}</td>
                                        <td>{contract.seat_limit.to_string()}</td>
                                        <td>{contract.ends_on.unwrap_or_else(|| "No end date".to_owned())}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                }
            })}
        </Suspense>
        <section class="card" aria-labelledby="new-contract">
            <h2 id="new-contract">"New contract"</h2>
            <ActionForm action=create>
                <label for="contract-name">"Name"</label>
                <input id="contract-name" name="name" required maxlength="120" />
                <label for="contract-seats">"Seat limit"</label>
                <input id="contract-seats" name="seat_limit" type="number" min="1" required />
                <label for="contract-ends">"End date (optional)"</label>
                <input id="contract-ends" name="ends_on" type="date" />
                {action_error(create.value())}
                <button type="submit" class="primary" disabled=move || create.pending().get()>"Add contract"</button>
            </ActionForm>
        </section>
    }
}

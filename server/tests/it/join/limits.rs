//! The join page's settings (validated, admin only) and its rate limits answering 429.

use super::*;

async fn rate_limit_answers_429_per_client_address(backend: Backend) {
    let Some(server) = TestApp::spawn_with(
        backend,
        false,
        &[
            ("MUSTER_JOIN_ADDRESS_BURST", "3".to_owned()),
            ("MUSTER_JOIN_ADDRESS_REFILL_SECONDS", "3600".to_owned()),
        ],
    )
    .await
    else {
        return;
    };
    let (admin, group) = server
        .admin_with_group(
            "Riverside",
            "ada@example.org",
            "Spring Cohort",
            "Safety\nConduct",
        )
        .await;
    let group = group.to_string();
    open_page(&admin, "riverside", &group, "").await;
    let visitor = server.client();
    for attempt in 1..=3 {
        let (status, location) = register(&visitor, "riverside", "lin@example", "").await;
        assert_eq!(
            (status, location.as_str()),
            (303, "/join/riverside?error=email"),
            "attempt {attempt}"
        );
    }
    let (status, headers, body) = visitor
        .post_form(
            "/join/riverside/submit",
            &[("intent", "register"), ("email", "lin@example.org")],
            &[("Origin", server.base.as_str())],
        )
        .await;
    assert_eq!(status.as_u16(), 429, "{body}");
    assert!(headers.get("retry-after").is_some());
    assert!(body.contains("Too many attempts"), "{body}");
    // The limit is the address's, on every page, and on submissions only.
    let (status, _) = register(&visitor, "elsewhere", "lin@example.org", "x").await;
    assert_eq!(status, 429);
    let (status, _) = visitor.get_page("/join/riverside").await;
    assert_eq!(status.as_u16(), 200);
    assert_eq!(
        server
            .count(
                "SELECT COUNT(*) FROM join_requests WHERE email = $1",
                "lin@example.org"
            )
            .await,
        0
    );
}

async fn rate_limit_answers_429_per_organization(backend: Backend) {
    let Some(server) = TestApp::spawn_with(
        backend,
        true,
        &[
            ("MUSTER_JOIN_ORGANIZATION_BURST", "2".to_owned()),
            ("MUSTER_JOIN_ORGANIZATION_REFILL_SECONDS", "3600".to_owned()),
        ],
    )
    .await
    else {
        return;
    };
    let (riverside, group) = server
        .admin_with_group(
            "Riverside",
            "ada@example.org",
            "Spring Cohort",
            "Safety\nConduct",
        )
        .await;
    let group = group.to_string();
    open_page(&riverside, "riverside", &group, "").await;
    let (hillside, other_group) = server
        .admin_with_group(
            "Hillside",
            "bo@example.org",
            "Spring Cohort",
            "Safety\nConduct",
        )
        .await;
    let other_group = other_group.to_string();
    open_page(&hillside, "hillside", &other_group, "").await;

    let visitor = server.client();
    for _ in 0..2 {
        let (status, _) = register(&visitor, "riverside", "lin@example.org", "x").await;
        assert_eq!(status, 303);
    }
    let (status, _) = register(&visitor, "riverside", "lin@example.org", "x").await;
    assert_eq!(status, 429, "the third submission to one organization");
    let (status, _) = register(&server.client(), "Riverside", "max@example.org", "x").await;
    assert_eq!(status, 429, "whatever the case of the slug");
    // The handler decodes and trims the slug, so the limit must too: these
    // used to get a fresh bucket each.
    for spelled in ["%72iverside", "riverside%20", "%52IVERSIDE"] {
        let (status, _) = register(&server.client(), spelled, "max@example.org", "x").await;
        assert_eq!(status, 429, "{spelled} is riverside's page too");
    }
    let (status, location) = register(&visitor, "hillside", "lin@example.org", PASSWORD).await;
    assert_eq!(
        (status, location.as_str()),
        (303, "/join/hillside?sent"),
        "another organization is not affected"
    );
}

async fn settings_are_validated_and_admin_only(backend: Backend) {
    let Some(server) = TestApp::spawn(backend, true).await else {
        return;
    };
    let (riverside, group) = server
        .admin_with_group(
            "Riverside",
            "ada@example.org",
            "Spring Cohort",
            "Safety\nConduct",
        )
        .await;
    let group = group.to_string();
    let (hillside, hill_group) = server
        .admin_with_group(
            "Hillside",
            "bo@example.org",
            "Spring Cohort",
            "Safety\nConduct",
        )
        .await;
    let hill_group = hill_group.to_string();
    let empty: JoinSettings = riverside.call("join/settings", &[]).await.unwrap();
    assert!(!empty.enabled && empty.slug.is_empty() && empty.link.is_none());
    assert_eq!(empty.link_prefix, "http://muster.test/join/");

    let page = |enabled, slug, group| Page {
        enabled,
        slug,
        group,
        domains: "",
        subdomains: false,
    };
    let field_of = |result: Result<JoinSettings, AppError>| match result {
        Err(AppError::Invalid { field, .. }) => field,
        other => panic!("expected Invalid, got {other:?}"),
    };
    assert_eq!(
        field_of(save(&riverside, &page(true, "", &group)).await),
        "Link"
    );
    assert_eq!(
        field_of(save(&riverside, &page(true, "riverside", "")).await),
        "Group"
    );
    assert_eq!(
        field_of(save(&riverside, &page(true, "Admin", &group)).await),
        "Link"
    );
    assert_eq!(
        field_of(save(&riverside, &page(true, "a_b", &group)).await),
        "Link"
    );
    assert_eq!(
        field_of(save(&riverside, &page(true, "riverside", &hill_group)).await),
        "Group",
        "another organization's group"
    );
    // Off, the page needs neither a link nor a group.
    save(&riverside, &page(false, "", "")).await.unwrap();
    save(&riverside, &page(true, "River-Side", &group))
        .await
        .unwrap();
    assert_eq!(
        field_of(save(&hillside, &page(true, "river-side", &hill_group)).await),
        "Link",
        "taken by another organization"
    );

    assert_eq!(check(&riverside, "river-side").await, SlugCheck::Current);
    assert_eq!(check(&hillside, "river-side").await, SlugCheck::Taken);
    assert_eq!(check(&hillside, "hill-side").await, SlugCheck::Available);
    assert!(matches!(
        check(&hillside, "join").await,
        SlugCheck::Invalid(_)
    ));
    assert!(matches!(
        check(&hillside, "ab").await,
        SlugCheck::Invalid(_)
    ));

    // Every function checks the caller: nobody signed in, and a learner.
    let anonymous = server.client();
    assert_eq!(
        anonymous.call::<JoinSettings>("join/settings", &[]).await,
        Err(AppError::NotAuthenticated)
    );
    assert_eq!(
        save(&anonymous, &page(false, "x-y-z", "")).await,
        Err(AppError::NotAuthenticated)
    );
    let learner = server.client();
    register(&learner, "river-side", "lin@example.org", PASSWORD).await;
    let token = verify_token_for(&server, "lin@example.org").await;
    assert_eq!(confirm(&learner, &token).await.0, 303);
    assert_eq!(
        learner.call::<JoinSettings>("join/settings", &[]).await,
        Err(AppError::Forbidden)
    );
    assert_eq!(
        save(&learner, &page(false, "x-y-z", "")).await,
        Err(AppError::Forbidden)
    );
    assert_eq!(
        learner
            .call::<(String, SlugCheck)>("join/check_slug", &[("slug", "abc")])
            .await,
        Err(AppError::Forbidden)
    );
    // Each organization sees only its own settings.
    let theirs: JoinSettings = hillside.call("join/settings", &[]).await.unwrap();
    assert!(theirs.slug.is_empty());
}

on_both_backends! {
    rate_limit_per_address => rate_limit_answers_429_per_client_address;
    rate_limit_per_organization => rate_limit_answers_429_per_organization;
    settings => settings_are_validated_and_admin_only;
}

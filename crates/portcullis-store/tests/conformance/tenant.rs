//! Actions and bindings, settings, logs and signing keys.

use crate::prelude::*;

pub(crate) async fn actions_and_their_bindings(s: Arc<dyn Store>) {
    use portcullis_core::actions::{ActionRecord, BindingRecord};
    use portcullis_core::store::StoreError;
    let suffix = unique_suffix();
    let action = |id: &str, name: &str| ActionRecord {
        id: format!("act_{id}_{suffix}"),
        name: format!("{name}-{suffix}"),
        trigger: "post-login".to_owned(),
        code: "exports.onExecutePostLogin = async () => {};".to_owned(),
        secrets: serde_json::Map::from_iter([("KEY".to_owned(), "v".into())]),
        deployed_code: None,
        deployed_secrets: serde_json::Map::new(),
        version: 0,
        created_at: 1,
        updated_at: 1,
    };
    let first = action("1", "first");
    let second = action("2", "second");
    s.insert_action(&first).await.expect("insert");
    s.insert_action(&second).await.expect("insert");
    assert!(
        matches!(
            s.insert_action(&ActionRecord {
                id: format!("act_3_{suffix}"),
                ..first.clone()
            })
            .await,
            Err(StoreError::Conflict(_))
        ),
        "names are unique"
    );
    assert_eq!(s.action(&first.id).await.expect("get"), Some(first.clone()));

    let deployed = ActionRecord {
        deployed_code: Some(first.code.clone()),
        deployed_secrets: first.secrets.clone(),
        version: 1,
        updated_at: 2,
        ..first.clone()
    };
    assert!(s.replace_action(&deployed).await.expect("replace"));
    assert_eq!(
        s.action(&first.id).await.expect("get"),
        Some(deployed.clone())
    );

    let binding = |action: &ActionRecord, n: i64| BindingRecord {
        id: format!("bnd_{n}_{suffix}"),
        trigger: "post-login".to_owned(),
        action_id: action.id.clone(),
        display_name: action.name.clone(),
        created_at: n,
    };
    s.replace_bindings("post-login", &[binding(&second, 1), binding(&first, 2)])
        .await
        .expect("bind");
    let order: Vec<String> = s
        .bindings()
        .await
        .expect("bindings")
        .into_iter()
        .map(|b| b.action_id)
        .collect();
    assert_eq!(
        order,
        [second.id.clone(), first.id.clone()],
        "in the order given"
    );

    // Deleting an action removes its bindings with it.
    assert!(s.delete_action(&second.id).await.expect("delete"));
    assert!(!s.delete_action(&second.id).await.expect("delete"));
    let left = s.bindings().await.expect("bindings");
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].action_id, first.id);
    assert_eq!(s.list_actions().await.expect("list"), vec![deployed]);
}

pub(crate) async fn settings_are_upserted(s: Arc<dyn Store>) {
    assert_eq!(s.setting("guardian").await.expect("get"), None);
    s.put_setting("guardian", "{\"a\":1}").await.expect("put");
    s.put_setting("guardian", "{\"a\":2}")
        .await
        .expect("put again");
    assert_eq!(
        s.setting("guardian").await.expect("get").as_deref(),
        Some("{\"a\":2}")
    );
}

pub(crate) async fn logs_are_listed_filtered_and_paged(s: Arc<dyn Store>) {
    use portcullis_core::logs::{LogEvent, LogQuery, LogType};
    let mut ids = Vec::new();
    for (i, kind) in [
        LogType::SuccessSignup,
        LogType::FailedLoginIncorrectPassword,
        LogType::SuccessSignup,
    ]
    .into_iter()
    .enumerate()
    {
        let event = LogEvent::new(kind, 1_000 + i as i64)
            .user_name("a@example.com")
            .detail("error", "x")
            .description("d");
        let mut event = event;
        event.user_id = Some(format!("auth0|{i}"));
        s.append_log(&event).await.expect("append");
        ids.push(event.log_id.clone());
        assert_eq!(s.log_by_id(&event.log_id).await.expect("get"), Some(event));
    }
    let all = LogQuery {
        limit: 10,
        newest_first: true,
        ..Default::default()
    };
    let (events, total) = s.list_logs(&all).await.expect("list");
    assert_eq!(total, 3);
    assert_eq!(
        events.iter().map(|e| e.log_id.clone()).collect::<Vec<_>>(),
        [ids[2].clone(), ids[1].clone(), ids[0].clone()]
    );
    let signups = LogQuery {
        log_type: Some("ss".into()),
        limit: 10,
        newest_first: true,
        ..Default::default()
    };
    assert_eq!(s.list_logs(&signups).await.expect("list").1, 2);
    let after_first = LogQuery {
        from: Some(ids[0].clone()),
        limit: 10,
        newest_first: true,
        ..Default::default()
    };
    let (events, _) = s.list_logs(&after_first).await.expect("list");
    assert_eq!(
        events.iter().map(|e| e.log_id.clone()).collect::<Vec<_>>(),
        [ids[1].clone(), ids[2].clone()]
    );
    assert_eq!(s.log_by_id("nope").await.expect("get"), None);
    // Retention: events before a date go, the rest stay.
    assert_eq!(s.prune_logs(1_001).await.expect("prune"), 1);
    assert_eq!(s.list_logs(&all).await.expect("list").1, 2);
}

pub(crate) async fn signing_key_generations_are_unique(s: Arc<dyn Store>) {
    let key = |kid: &str, generation| SigningKeyRecord {
        kid: kid.to_owned(),
        generation,
        private_key_pem: "pem".to_owned(),
        created_at: 1,
    };
    s.insert_signing_key(&key("k1", 1)).await.expect("first");
    assert!(matches!(
        s.insert_signing_key(&key("k2", 1)).await,
        Err(StoreError::Conflict(_))
    ));
    s.insert_signing_key(&key("k2", 2)).await.expect("second");
    let keys = s.signing_keys().await.expect("keys");
    assert_eq!(
        keys.iter().map(|k| k.generation).collect::<Vec<_>>(),
        [2, 1]
    );
}

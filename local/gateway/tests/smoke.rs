//! End-to-end smoke test against a running local stack and gateway.

#[tokio::test]
#[ignore = "needs the local stack: make test"]
async fn notes_without_a_token_is_unauthorized() {
    let url = std::env::var("LOCAL_GATEWAY_URL")
        .expect("LOCAL_GATEWAY_URL must point at a running gateway: run this test through `make test`");
    let response = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client")
        .get(format!("{}/notes", url.trim_end_matches('/')))
        .send()
        .await
        .expect("the gateway answers");
    assert_eq!(response.status(), 401);
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body, serde_json::json!({"message": "Unauthorized"}));
}

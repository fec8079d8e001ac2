//! Service points: cached for offline use, nearest first, opening hours, which points
//! take a procedure; `set_branch` checks the code offline.

use motcua_client::*;

use crate::helpers::*;

/// Hoàn Kiếm, central Hanoi.
const HERE: (f64, f64) = (21.0285, 105.8542);

#[tokio::test]
async fn service_points_are_cached_nearest_first_and_checked_offline() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let flaky = Flaky::new();
    let c =
        client_with(&server.base_url, dir.path(), std::sync::Arc::new(MemoryTokenStore::new()), flaky.clone()).await;
    sign_up(&server, &c).await;
    c.sync_catalogue().await.unwrap();
    // Before the first sync: nothing cached, and any code is taken (checked by the server).
    assert!(c.service_points(None, None, None).await.unwrap().is_empty());
    let all = c.sync_service_points().await.unwrap();
    assert!(all.len() > 100, "{}", all.len());

    flaky.online.store(false, std::sync::atomic::Ordering::SeqCst);
    let listed = c.service_points(None, None, None).await.unwrap();
    assert_eq!(listed.len(), all.len());
    assert!(listed.windows(2).all(|w| w[0].code <= w[1].code));
    let head = listed.iter().find(|p| p.code == "H26.00").unwrap();
    assert_eq!(head.kind, "head_office");
    assert!(head.opening_hours.as_deref().is_some_and(|h| h.contains("Thứ Hai")), "{head:?}");

    let near = c.service_points(Some(HERE.0), Some(HERE.1), None).await.unwrap();
    let distances: Vec<f64> = near.iter().map(|p| p.distance_km.unwrap()).collect();
    assert!(distances.windows(2).all(|w| w[0] <= w[1]));
    assert!(distances[0] < 2.0, "{:?}", near[0]);

    // A procedure that is not boundary-free is filed at the head office or a branch only.
    let bound = "1.004222";
    let takers = c.service_points(Some(HERE.0), Some(HERE.1), Some(bound.into())).await.unwrap();
    assert!(!takers.is_empty() && takers.iter().all(|p| p.kind == "head_office" || p.kind == "branch"));
    let free = c.service_points(None, None, Some(PROCEDURE.into())).await.unwrap();
    assert_eq!(free.len(), all.len());
    assert!(matches!(c.service_points(None, None, Some("9.999999".into())).await, Err(ClientError::NotFound { .. })));
    assert!(matches!(c.service_points(Some(91.0), Some(0.0), None).await, Err(ClientError::Invalid { .. })));
    assert!(matches!(c.service_points(Some(21.0), None, None).await, Err(ClientError::Invalid { .. })));

    // set_branch, offline: an unknown code or a point that does not take the procedure is
    // refused now, on `branch_code`.
    let draft = c.create_draft(bound.into()).await.unwrap();
    let id = draft.summary.id.clone();
    let ward_point = all.iter().find(|p| p.kind == "ward_point").unwrap().code.clone();
    for code in ["H99.99", ward_point.as_str()] {
        match c.set_branch(id.clone(), Some(code.into())).await {
            Err(ClientError::Validation { fields, .. }) => {
                assert_eq!(fields[0].path, "branch_code");
                assert!(!fields[0].message.is_empty());
            }
            other => panic!("{code}: validation expected, got {other:?}"),
        }
    }
    assert_eq!(c.draft(id.clone()).await.unwrap().branch_code, None);
    c.set_branch(id.clone(), Some("H26.01".into())).await.unwrap();
    assert_eq!(c.draft(id.clone()).await.unwrap().branch_code.as_deref(), Some("H26.01"));
    c.set_branch(id.clone(), None).await.unwrap();
}

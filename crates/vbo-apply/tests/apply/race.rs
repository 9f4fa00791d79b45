//! Two runs on one server: a create refused because another run made the organization since
//! the plan is done when what is there matches the manifest, and a failure naming the
//! differences otherwise. Nothing is created twice either way.

use vbo_apply::{ApplyOptions, Scope, StepOutcome, verify};
use vbo_emulator::EmulatorConfig;
use vbo_model::RestApiVersion::V8;
use vbo_model::Secret;

use crate::support::{connect, desired, drifted, plan, start};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_someone_else_made_meanwhile_is_done_if_it_matches() {
    let emulator = start(V8, EmulatorConfig::default()).await;
    let client = connect(&emulator).await;
    let desired = desired(V8, 3);
    // This run plans three creates on an empty server...
    let stale = plan(&client, &desired, false).await;
    // ... and before it applies, another run creates the first as its manifest says and the
    // second with other settings.
    let other_run = [desired[0].clone(), drifted(V8, 2)[1].clone()];
    for made in &other_run {
        let body = made
            .spec
            .to_body(&made.name, |_, _| {
                Ok::<_, std::convert::Infallible>(Secret::new("pw"))
            })
            .unwrap_or_else(|never| match never {});
        client.create(&body).await.unwrap();
    }
    let before = emulator.request_counts();

    let (steps, _) = vbo_apply::steps(&stale, &desired, Scope::All).unwrap();
    let results = vbo_apply::apply(&client, steps, &ApplyOptions::default(), |_| {}).await;
    let during = emulator.request_counts().since(&before);

    let id_of = |name: &str| {
        emulator
            .organizations()
            .into_iter()
            .find(|o| o.name == name)
            .unwrap()
            .id
    };
    assert_eq!(
        results[0].outcome,
        StepOutcome::CreatedElsewhere {
            id: id_of(&desired[0].name),
            server_name: desired[0].name.clone(),
        }
    );
    match &results[1].outcome {
        StepOutcome::Failed { message } => {
            assert!(
                message.contains("created elsewhere meanwhile")
                    && message.contains(&id_of(&desired[1].name))
                    && message.contains("exchangeSettings.serverName"),
                "{message}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(results[2].outcome, StepOutcome::Created { .. }));
    // Three creates sent, two refused as duplicates, one made.
    assert_eq!(during.route("POST /v8/Organizations"), 3);
    assert_eq!(during.created, 1);
    assert_eq!(emulator.organizations().len(), 3);
    // What counted as done converged; the failure is left for the next plan to update.
    let observed = client.list().await.unwrap();
    assert_eq!(verify(&results, &desired, &observed, V8), []);
    let next = plan(&client, &desired, false).await;
    assert_eq!(next.summary.update, 1);
    assert_eq!(next.summary.create, 0);
}

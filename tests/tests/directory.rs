//! A customer's directory (the store under SCIM, v3) on DynamoDB Local: a
//! `userName` is taken once per customer whatever its case, a seat address
//! by one active person at a time, a `userName eq` lookup is one key read,
//! and every write is all or nothing under the person's version.

use licensing::App;
use licensing::model::{DirectoryEmail, DirectoryUser};
use licensing::store::{DirectoryConflict, DirectoryConflictOr};
use licensing_tests::*;

fn person(id: &str, user_name: &str, email: Option<&str>) -> DirectoryUser {
    let at = "2026-12-06T21:00:00Z".parse().unwrap();
    DirectoryUser {
        id: id.into(),
        customer_id: CUSTOMER.into(),
        user_name: user_name.into(),
        external_id: None,
        name: None,
        display_name: None,
        emails: email
            .map(|e| {
                vec![DirectoryEmail { value: e.into(), kind: Some("work".into()), primary: true }]
            })
            .unwrap_or_default(),
        active: Some(true),
        created: at,
        last_modified: at,
        version: 1,
        moving_from: None,
    }
}

fn refused(why: DirectoryConflict) -> Result<(), DirectoryConflictOr> {
    Err(DirectoryConflictOr::Conflict(why))
}

/// Saving `new` (a new person) is refused for `why`, and nothing of it is written.
async fn refused_whole(app: &App, new: &DirectoryUser, why: DirectoryConflict) {
    assert_eq!(saved(app, None, new).await, refused(why));
    assert_eq!(app.store.directory_user(CUSTOMER, &new.id).await.unwrap(), None, "all or nothing");
    let named = app.store.directory_user_named(CUSTOMER, &new.user_name).await.unwrap();
    assert!(named.is_none_or(|n| n.id != new.id), "its name is not taken");
}

async fn saved(
    app: &App,
    old: Option<&DirectoryUser>,
    new: &DirectoryUser,
) -> Result<(), DirectoryConflictOr> {
    app.store.save_directory_user(old, new).await
}

#[tokio::test]
async fn a_user_name_is_taken_once_per_customer_whatever_its_case() {
    let app = fresh_app().await;
    let anna = person("usr_1", "anna@example.com", None);
    assert_eq!(saved(&app, None, &anna).await, Ok(()));
    let again = person("usr_2", "ANNA@example.com", Some("other@example.com"));
    refused_whole(&app, &again, DirectoryConflict::UserName).await;
    // One key read finds a person by userName, in any case.
    let found = app.store.directory_user_named(CUSTOMER, "Anna@Example.COM").await.unwrap();
    assert_eq!(found, Some(anna.clone()));
    // Another customer's directory is another namespace.
    let mut theirs = person("usr_3", "anna@example.com", None);
    theirs.customer_id = OTHER_CUSTOMER.into();
    assert_eq!(saved(&app, None, &theirs).await, Ok(()));
    assert_eq!(app.store.directory(CUSTOMER).await.unwrap(), vec![anna]);
}

#[tokio::test]
async fn a_seat_address_is_held_by_one_active_person_at_a_time() {
    let app = fresh_app().await;
    let anna = person("usr_1", "anna", Some("Anna@Example.com"));
    saved(&app, None, &anna).await.unwrap();
    let twin = person("usr_2", "anna.s", Some("anna@example.com"));
    refused_whole(&app, &twin, DirectoryConflict::SeatAddress).await;
    // Once Anna is inactive, the address is free for someone else.
    let gone = DirectoryUser { active: Some(false), version: 2, ..anna.clone() };
    assert_eq!(saved(&app, Some(&anna), &gone).await, Ok(()));
    assert_eq!(saved(&app, None, &twin).await, Ok(()));
    // And Anna cannot come back active with it while the other holds it.
    let back = DirectoryUser { active: Some(true), version: 3, ..gone.clone() };
    assert_eq!(saved(&app, Some(&gone), &back).await, refused(DirectoryConflict::SeatAddress));
}

#[tokio::test]
async fn a_rename_moves_the_name_and_the_seat_address_and_a_stale_write_is_refused() {
    let app = fresh_app().await;
    let anna = person("usr_1", "anna", Some("anna@example.com"));
    saved(&app, None, &anna).await.unwrap();
    let renamed = DirectoryUser {
        user_name: "anna.meier".into(),
        emails: vec![DirectoryEmail {
            value: "anna.meier@example.com".into(),
            kind: None,
            primary: true,
        }],
        version: 2,
        ..anna.clone()
    };
    assert_eq!(saved(&app, Some(&anna), &renamed).await, Ok(()));
    assert_eq!(
        app.store.directory_user_named(CUSTOMER, "anna").await.unwrap(),
        None,
        "the old name is free"
    );
    assert_eq!(
        app.store.directory_user_named(CUSTOMER, "Anna.Meier").await.unwrap(),
        Some(renamed.clone())
    );
    // The old seat address is free, the new one taken.
    saved(&app, None, &person("usr_2", "other", Some("anna@example.com"))).await.unwrap();
    let thief = person("usr_3", "thief", Some("anna.meier@example.com"));
    refused_whole(&app, &thief, DirectoryConflict::SeatAddress).await;
    // A write from a read before the rename is refused.
    let stale = DirectoryUser { display_name: Some("late".into()), version: 2, ..anna.clone() };
    assert_eq!(saved(&app, Some(&anna), &stale).await, refused(DirectoryConflict::Changed));
    assert_eq!(app.store.delete_directory_user(&anna).await, refused(DirectoryConflict::Changed));
    assert_eq!(app.store.delete_directory_user(&renamed).await, Ok(()));
    assert_eq!(app.store.directory_user_named(CUSTOMER, "anna.meier").await.unwrap(), None);
    saved(&app, None, &person("usr_4", "again", Some("anna.meier@example.com"))).await.unwrap();
}

//! Licences and their assignments: every read of them, each strongly
//! consistent unless it says otherwise (a writer decides only on those).

use std::collections::HashMap;

use super::expr::{self, KeyRange};
use super::items::{self, from_item};
use super::keys::{self, attr};
use super::{Item, Store, s, sdk};
use crate::error::Result;
use crate::model::{Assignment, License};

impl Store {
    /// One licence, read strongly consistently.
    pub async fn license(&self, customer_id: &str, license_id: &str) -> Result<Option<License>> {
        let key = items::license_key(customer_id, license_id);
        self.get(key, true).await?.map(from_item).transpose()
    }

    /// Every licence of a customer (one Query; it never reads assignments).
    pub async fn licenses(&self, customer_id: &str) -> Result<Vec<License>> {
        let query = self.query(licenses_of(customer_id));
        self.query_all(query).await?.into_iter().map(from_item).collect()
    }

    /// Every licence of a customer, read strongly consistently, for a writer
    /// to decide on (one Query, of 1 MB pages).
    pub async fn licenses_to_write(&self, customer_id: &str) -> Result<Vec<License>> {
        let query = self.query(licenses_of(customer_id)).consistent_read(true);
        self.query_all(query).await?.into_iter().map(from_item).collect()
    }

    /// The ids of a customer's licences of `product_id`, read strongly
    /// consistently (filtered and projected to the id, so the answer is small).
    pub async fn license_ids_of_product(
        &self,
        customer_id: &str,
        product_id: &str,
    ) -> Result<Vec<String>> {
        let query = self
            .query(licenses_of(customer_id))
            .projection_expression("#id")
            .expression_attribute_names("#id", attr::LICENSE_ID)
            .consistent_read(true)
            .filter_expression("#product = :product")
            .expression_attribute_names("#product", attr::PRODUCT_ID)
            .expression_attribute_values(":product", s(product_id));
        Ok(self
            .query_all(query)
            .await?
            .into_iter()
            .filter_map(|item| item.get(attr::LICENSE_ID)?.as_s().ok().cloned())
            .collect())
    }

    /// One page of a licence's assignments in e-mail order, after `after`.
    /// Returns the items and whether DynamoDB has more.
    pub async fn assignments_page(
        &self,
        customer_id: &str,
        license_id: &str,
        after: Option<&str>,
        limit: Option<i32>,
    ) -> Result<(Vec<Assignment>, bool)> {
        let start = after.map(|email| items::assignment_key(customer_id, license_id, email));
        let out = self
            .query(assignments_of(customer_id, license_id))
            .set_exclusive_start_key(start)
            .set_limit(limit)
            .consistent_read(true)
            .send()
            .await
            .map_err(sdk)?;
        let found = out.items.unwrap_or_default().into_iter().map(from_item);
        Ok((found.collect::<Result<_>>()?, out.last_evaluated_key.is_some()))
    }

    /// A user's assignments across all customers (GSI1, eventually consistent).
    pub async fn assignments_of_user(&self, email: &str) -> Result<Vec<Assignment>> {
        self.query_all(self.query(KeyRange::gsi1(keys::user(email))))
            .await?
            .into_iter()
            .map(from_item)
            .collect()
    }

    /// A user's assignments of one product across all customers (GSI1,
    /// eventually consistent; filtered to the product, so the answer is small).
    pub async fn assignments_of_user_for(
        &self,
        email: &str,
        product_id: &str,
    ) -> Result<Vec<Assignment>> {
        let query = self
            .query(KeyRange::gsi1(keys::user(email)))
            .filter_expression("#product = :product")
            .expression_attribute_names("#product", attr::PRODUCT_ID)
            .expression_attribute_values(":product", s(product_id));
        self.query_all(query).await?.into_iter().map(from_item).collect()
    }

    /// A licence and the assignments of `emails` on it, as a writer decides
    /// on them: the licence first (GetItem), then the items (BatchGetItem,
    /// strongly consistent), so that a commit conditioned on the licence's
    /// version also stands for the items. Every write that changes an
    /// assignment's seat changes the licence's version in the same
    /// transaction, or comes after a pending marker did; so an item newer
    /// than the licence read fails the commit, and none can be older. (One
    /// BatchGetItem of both is read-committed per item: it could pair a
    /// licence after a transaction with an assignment from before it, and
    /// the commit would not notice.)
    pub async fn license_and_assignments(
        &self,
        customer_id: &str,
        license_id: &str,
        emails: &[String],
    ) -> Result<(Option<License>, HashMap<String, Assignment>)> {
        let license = self.license(customer_id, license_id).await?;
        let mut assignments = HashMap::new();
        if license.is_none() || emails.is_empty() {
            return Ok((license, assignments));
        }
        let keys = emails.iter().map(|e| items::assignment_key(customer_id, license_id, e));
        for item in self.batch_get(keys.collect(), true).await? {
            let a: Assignment = from_item(item)?;
            assignments.insert(a.email.clone(), a);
        }
        Ok((license, assignments))
    }

    /// The assignments of `email` on each of `license_ids` (one customer's),
    /// read strongly consistently.
    pub async fn assignments_of(
        &self,
        customer_id: &str,
        license_ids: &[String],
        email: &str,
    ) -> Result<Vec<Assignment>> {
        self.assignments_of_each(customer_id, license_ids, &[email]).await
    }

    /// The assignments of each of `emails` on each of `license_ids` (one
    /// customer's), read strongly consistently: one BatchGetItem per 100.
    pub async fn assignments_of_each(
        &self,
        customer_id: &str,
        license_ids: &[String],
        emails: &[&str],
    ) -> Result<Vec<Assignment>> {
        let keys = license_ids
            .iter()
            .flat_map(|l| emails.iter().map(move |e| items::assignment_key(customer_id, l, e)))
            .collect();
        self.batch_get(keys, true).await?.into_iter().map(from_item).collect()
    }

    /// Licences by (customer, licence id), strongly consistent or not.
    pub async fn licenses_by_id(
        &self,
        ids: &[(String, String)],
        consistent: bool,
    ) -> Result<Vec<License>> {
        let keys = ids.iter().map(|(c, l)| items::license_key(c, l)).collect();
        self.batch_get(keys, consistent).await?.into_iter().map(from_item).collect()
    }

    /// The licences whose pending operation started before `before`, as
    /// GSI1 finds them (eventually consistent: read each again).
    pub async fn stalled_operations(
        &self,
        before: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<(String, String)>> {
        let range = KeyRange::gsi1(keys::PENDING_OPERATIONS).before(expr::timestamp(before));
        let query = self.query(range);
        let text = |item: &Item, name: &str| Some(item.get(name)?.as_s().ok()?.clone());
        Ok(self
            .query_all(query)
            .await?
            .iter()
            .filter_map(|item| {
                Some((text(item, attr::CUSTOMER_ID)?, text(item, attr::LICENSE_ID)?))
            })
            .collect())
    }

    /// Every assignment of a licence, read strongly consistently (a renewal
    /// or cancellation decides over all of them).
    pub async fn all_assignments(
        &self,
        customer_id: &str,
        license_id: &str,
    ) -> Result<Vec<Assignment>> {
        let query = self.query(assignments_of(customer_id, license_id)).consistent_read(true);
        self.query_all(query).await?.into_iter().map(from_item).collect()
    }

    /// Assignments by (customer, licence id, e-mail), strongly consistently.
    pub async fn assignments_by_id(
        &self,
        ids: &[(String, String, String)],
    ) -> Result<Vec<Assignment>> {
        let keys = ids.iter().map(|(c, l, e)| items::assignment_key(c, l, e)).collect();
        self.batch_get(keys, true).await?.into_iter().map(from_item).collect()
    }
}

/// A customer's licences.
fn licenses_of(customer_id: &str) -> KeyRange {
    KeyRange::table(keys::customer(customer_id)).begins_with(keys::LICENSE_PREFIX)
}

/// A licence's assignments, in e-mail order.
fn assignments_of(customer_id: &str, license_id: &str) -> KeyRange {
    KeyRange::table(keys::customer(customer_id)).begins_with(keys::assignments_of(license_id))
}

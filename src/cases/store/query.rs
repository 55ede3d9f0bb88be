//! Building list queries that run on both databases: a WHERE clause with numbered
//! placeholders and its arguments, paging limits, and one page of rows with the total.

use chrono::{DateTime, Utc};

use super::{with_db, Store, StoreError};
use crate::cases::model::Page;

/// An argument of a built query.
pub(super) enum Arg {
    Text(String),
    Time(DateTime<Utc>),
}

/// Binds every argument of a [`Where`] to a sqlx query (of either database).
macro_rules! bind_args {
    ($query:expr, $args:expr) => {{
        let mut q = $query;
        for a in $args {
            q = match a {
                Arg::Text(s) => q.bind(s.clone()),
                Arg::Time(t) => q.bind(*t),
            };
        }
        q
    }};
}

/// A WHERE clause under construction.
#[derive(Default)]
pub(super) struct Where {
    pub clauses: Vec<String>,
    pub args: Vec<Arg>,
}

impl Where {
    /// Adds an argument; returns its placeholder number.
    pub fn push(&mut self, a: Arg) -> usize {
        self.args.push(a);
        self.args.len()
    }

    /// `col = $n`.
    pub fn eq(&mut self, col: &str, a: Arg) {
        let n = self.push(a);
        self.clauses.push(format!("{col} = ${n}"));
    }

    /// `col op $n` for a time bound.
    pub fn time(&mut self, col: &str, op: &str, t: DateTime<Utc>) {
        let n = self.push(Arg::Time(t));
        self.clauses.push(format!("{col} {op} ${n}"));
    }

    /// The condition, `TRUE` when there is none.
    pub fn condition(&self) -> String {
        if self.clauses.is_empty() {
            "TRUE".into()
        } else {
            self.clauses.join(" AND ")
        }
    }

    /// `SELECT COUNT(*)` and `SELECT columns … LIMIT … OFFSET …` over `table` (newest first by
    /// `order`), with the paging placeholders after the filter's.
    fn page_sql(&self, columns: &str, table: &str, order: &str) -> (String, String) {
        let cond = self.condition();
        let (l, o) = (self.args.len() + 1, self.args.len() + 2);
        (
            format!("SELECT COUNT(*) FROM {table} WHERE {cond}"),
            format!("SELECT {columns} FROM {table} WHERE {cond} ORDER BY {order} LIMIT ${l} OFFSET ${o}"),
        )
    }
}

/// Checks paging parameters: `limit` 1–500 (default 50), `offset` ≥ 0 (default 0).
pub(super) fn paging(limit: Option<i64>, offset: Option<i64>) -> Result<(i64, i64), StoreError> {
    let limit = limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(StoreError::invalid("limit", "must be between 1 and 500"));
    }
    let offset = offset.unwrap_or(0);
    if offset < 0 {
        return Err(StoreError::invalid("offset", "must not be negative"));
    }
    Ok((limit, offset))
}

impl<T> Page<T> {
    pub(crate) fn new(items: Vec<T>, total: i64, limit: i64, offset: i64) -> Self {
        let end = offset + items.len() as i64;
        Page {
            next_offset: (end < total).then_some(end),
            items,
            total,
            limit,
            offset,
        }
    }
}

impl Store {
    /// One page of `table` rows matching `w`, ordered by `order`, with the total.
    pub(super) async fn fetch_page<T>(
        &self,
        w: &Where,
        (columns, table, order): (&str, &str, &str),
        (limit, offset): (i64, i64),
    ) -> Result<Page<T>, StoreError>
    where
        T: Send
            + Unpin
            + for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
            + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>,
    {
        let (count_sql, list_sql) = w.page_sql(columns, table, order);
        let (total, items) = with_db!(self, read, |pool| {
            let total: i64 = bind_args!(sqlx::query_scalar(&count_sql), &w.args)
                .fetch_one(pool)
                .await?;
            let items = bind_args!(sqlx::query_as::<_, T>(&list_sql), &w.args)
                .bind(limit)
                .bind(offset)
                .fetch_all(pool)
                .await?;
            (total, items)
        });
        Ok(Page::new(items, total, limit, offset))
    }
}

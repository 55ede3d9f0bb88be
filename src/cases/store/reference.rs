//! Reference data: categories (seeded by migration), departments, grid cells and agents (synced
//! from configuration), and the in-memory copy used to validate orders without a query.

use super::{with_db, Cache, Store, StoreError};
use crate::cases::model::{Category, Department, GridCell};
use crate::config::Config;
use crate::sip::auth::Ha1;

impl Store {
    /// Writes the configured departments, grid cells and agents into the store (insert or
    /// update). Departments and agents no longer configured are kept, as orders and calls
    /// refer to them, but marked inactive: nothing new can be dispatched to them.
    pub async fn sync_config(&self, config: &Config) -> Result<(), StoreError> {
        with_db!(self, write, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query("UPDATE departments SET active = FALSE")
                .execute(&mut *tx)
                .await?;
            sqlx::query("UPDATE agents SET active = FALSE")
                .execute(&mut *tx)
                .await?;
            for d in &config.departments {
                sqlx::query(
                    "INSERT INTO departments (id, name, phone, active) VALUES ($1, $2, $3, TRUE)
                     ON CONFLICT (id) DO UPDATE SET name = excluded.name, phone = excluded.phone,
                       active = TRUE",
                )
                .bind(&d.id)
                .bind(&d.name)
                .bind(&d.phone)
                .execute(&mut *tx)
                .await?;
            }
            for g in &config.grid_cells {
                sqlx::query(
                    "INSERT INTO grid_cells (code, name, district, street, community)
                     VALUES ($1, $2, $3, $4, $5)
                     ON CONFLICT (code) DO UPDATE SET name = excluded.name,
                       district = excluded.district, street = excluded.street,
                       community = excluded.community",
                )
                .bind(&g.code)
                .bind(&g.name)
                .bind(&g.district)
                .bind(&g.street)
                .bind(&g.community)
                .execute(&mut *tx)
                .await?;
            }
            for a in &config.agents {
                let ha1 = agent_ha1(a, &config.sip.realm);
                sqlx::query(
                    "INSERT INTO agents (id, name, queues, active, sip_realm, sip_ha1_md5,
                       sip_ha1_sha256) VALUES ($1, $2, $3, TRUE, $4, $5, $6)
                     ON CONFLICT (id) DO UPDATE SET name = excluded.name, queues = excluded.queues,
                       active = TRUE, sip_realm = excluded.sip_realm,
                       sip_ha1_md5 = excluded.sip_ha1_md5, sip_ha1_sha256 = excluded.sip_ha1_sha256",
                )
                .bind(&a.id)
                .bind(&a.name)
                .bind(a.queues.join(","))
                .bind(&config.sip.realm)
                .bind(&ha1.md5)
                .bind(&ha1.sha256)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
        });
        self.set_routing(&config.routing);
        self.reload_cache().await
    }

    /// Softphone credentials of the active agents for `realm`: user name → HA1 hashes.
    pub async fn sip_credentials(
        &self,
        realm: &str,
    ) -> Result<std::collections::HashMap<String, Ha1>, StoreError> {
        let rows: Vec<(String, Option<String>, Option<String>)> = with_db!(self, read, |pool| {
            sqlx::query_as(
                "SELECT id, sip_ha1_md5, sip_ha1_sha256 FROM agents
                 WHERE active AND sip_realm = $1",
            )
            .bind(realm)
            .fetch_all(pool)
            .await?
        });
        Ok(rows
            .into_iter()
            .filter_map(|(id, md5, sha)| {
                Ha1::from_hex(md5.as_deref(), sha.as_deref())
                    .ok()
                    .map(|h| (id, h))
            })
            .collect())
    }

    pub(super) async fn reload_cache(&self) -> Result<(), StoreError> {
        let categories = self.categories(None).await?;
        let departments = self.departments().await?;
        let grid_cells = self.grid_cells().await?;
        let cache = Cache {
            categories: categories.into_iter().map(|c| (c.id.clone(), c)).collect(),
            departments: departments.into_iter().map(|d| (d.id, d.name)).collect(),
            grid_cells: grid_cells.into_iter().map(|g| (g.code, g.name)).collect(),
        };
        *self.cache.write().unwrap_or_else(|e| e.into_inner()) = cache;
        Ok(())
    }

    /// Categories, optionally of one kind (event, component, service).
    pub async fn categories(&self, kind: Option<&str>) -> Result<Vec<Category>, StoreError> {
        Ok(with_db!(self, read, |pool| {
            sqlx::query_as::<_, Category>(
                "SELECT id, kind, major_code, minor_code, name_zh, name_en, parent_id, deadline_hours
                 FROM categories WHERE ($1 IS NULL OR kind = $1) ORDER BY id",
            )
            .bind(kind)
            .fetch_all(pool)
            .await?
        }))
    }

    pub async fn departments(&self) -> Result<Vec<Department>, StoreError> {
        Ok(with_db!(self, read, |pool| {
            sqlx::query_as::<_, Department>(
                "SELECT id, name, phone FROM departments WHERE active ORDER BY id",
            )
            .fetch_all(pool)
            .await?
        }))
    }

    pub async fn grid_cells(&self) -> Result<Vec<GridCell>, StoreError> {
        Ok(with_db!(self, read, |pool| {
            sqlx::query_as::<_, GridCell>(
                "SELECT code, name, district, street, community FROM grid_cells ORDER BY code",
            )
            .fetch_all(pool)
            .await?
        }))
    }

    pub(crate) fn category(&self, id: &str) -> Option<Category> {
        let cache = self.cache.read().unwrap_or_else(|e| e.into_inner());
        cache.categories.get(id).cloned()
    }

    pub(crate) fn has_department(&self, id: &str) -> bool {
        let cache = self.cache.read().unwrap_or_else(|e| e.into_inner());
        cache.departments.contains_key(id)
    }

    pub(crate) fn has_grid_cell(&self, code: &str) -> bool {
        let cache = self.cache.read().unwrap_or_else(|e| e.into_inner());
        cache.grid_cells.contains_key(code)
    }
}

/// The HA1 hashes of an agent's softphone account: computed from a configured password, or
/// taken as configured.
pub fn agent_ha1(agent: &crate::config::AgentConfig, realm: &str) -> Ha1 {
    match &agent.password {
        Some(p) => Ha1::from_password(&agent.id, realm, p),
        None => {
            Ha1::from_hex(agent.ha1_md5.as_deref(), agent.ha1_sha256.as_deref()).unwrap_or(Ha1 {
                md5: None,
                sha256: None,
            })
        }
    }
}

//! Tests of the KPI computation (filled in below).

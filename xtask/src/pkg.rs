//! Builds the npm package into `pkg/` (owned by the client work, issue 3).
pub fn build() -> anyhow::Result<()> {
    anyhow::bail!("the npm package build is not written yet (issue 3)")
}

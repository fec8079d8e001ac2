pub fn run(_args: &[String]) -> anyhow::Result<()> {
    anyhow::bail!("bench: not yet")
}
pub fn schemathesis() -> anyhow::Result<()> {
    anyhow::bail!("not yet")
}

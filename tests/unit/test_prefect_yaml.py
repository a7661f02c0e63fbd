"""Every prefect.yaml entrypoint loads as a flow through Prefect's own loader, and its parameters
validate against the flow's signature."""

from pathlib import Path

import yaml
from prefect.flows import load_flow_from_entrypoint

REPO = Path(__file__).resolve().parents[2]


def test_deployments_load_and_parameters_validate(monkeypatch):
    monkeypatch.chdir(REPO)
    spec = yaml.safe_load((REPO / "prefect.yaml").read_text())
    assert spec["deployments"]
    for dep in spec["deployments"]:
        path = dep["entrypoint"].split(":")[0]
        assert not Path(path).is_absolute() and (REPO / path).exists()
        flow = load_flow_from_entrypoint(dep["entrypoint"])
        validated = flow.validate_parameters(dep.get("parameters", {}))
        assert set(dep.get("parameters", {})) <= set(validated)
        assert dep["work_pool"]["name"]

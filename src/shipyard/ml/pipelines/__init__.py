"""Pipelines of cached steps, run as tracked runs on a process pool or a Dask cluster."""

from shipyard.ml.pipelines.pipeline import Pipeline, PipelineResult, StepFailed, StepResult
from shipyard.ml.pipelines.steps import Step, step
from shipyard.ml.pipelines.targets import PipelineSpec, load_target, register_pipeline

__all__ = [
    "Pipeline",
    "PipelineResult",
    "PipelineSpec",
    "Step",
    "StepFailed",
    "StepResult",
    "load_target",
    "register_pipeline",
    "step",
]

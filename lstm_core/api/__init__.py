"""The engine's one public door: `Engine`, in the spirit of MLflow's client.

The dashboard's pages, the CLI and scripts use only this module: they get typed entities
(`Dataset`, `Run`, `Trial`, `Epoch`, `RunResult`, `Progress`, `SearchHistory`,
`ModelCard`, ...) and never open the store, build artifact paths, read a result dict or
hold a library's object (an Optuna study, a Keras model) themselves. Importing it is cheap:
pandas, scikit-learn and TensorFlow load only in the methods that need them.

The `Engine` is made of facets, one module each: datasets, runs, models, insight and
cluster, over the workspace and lookups of `door`. Reading starts no process; `submit`,
`resume` and `warm_up` are the calls that may.

    engine = Engine()                       # the workspace at $LSTM_CORE_HOME
    frame, report = engine.read_path("spam.csv")
    dataset, notes = engine.freeze_dataset(frame, "v2", "v1", "spam.csv")
    run = engine.train(ExperimentSpec(dataset.id, grid={"arch": ["lstm", "gru"]}))
    engine.predict(run.id, ["WINNER! Claim your prize now"])
"""

from __future__ import annotations

from lstm_core.api.cluster import ClusterFacet
from lstm_core.api.datasets import DatasetsFacet
from lstm_core.api.door import MAX_NAME_CHARS, MAX_NOTE_CHARS, SPEC_DEFAULTS
from lstm_core.api.insight import InsightFacet
from lstm_core.api.models import ModelsFacet
from lstm_core.api.runs import MLFLOW_EXPERIMENT, RunsFacet
from lstm_core.data.markup import MarkupShare
from lstm_core.data.reading import Reading
from lstm_core.data.repeats import RepeatSummary
from lstm_core.domain.analysis import (
    CalibrationBin,
    Explanation,
    GateTrace,
    HeldOutText,
    LabelledText,
    LengthProfile,
    LengthSlice,
    TestPrediction,
    ThresholdMetrics,
)
from lstm_core.domain.architectures.registry import architecture
from lstm_core.domain.cluster_view import ClusterInfo, ClusterView, WorkerFits
from lstm_core.domain.entities import (
    CandidateResult,
    ClassScores,
    Dataset,
    Epoch,
    Estimate,
    Evaluation,
    Progress,
    RepeatedTexts,
    Run,
    RunResult,
    RunStatus,
    TextFile,
    Trial,
    TrialStatus,
    VectorsCoverage,
    candidate_labels,
    pruned_candidates,
)
from lstm_core.domain.errors import UserError
from lstm_core.domain.hyperparams import (
    ARCHITECTURE_NAMES,
    ARCHITECTURES,
    HYPERPARAMETERS,
    parse_assignment,
    show_value,
)
from lstm_core.domain.model_card import ModelCard
from lstm_core.domain.plain import to_plain
from lstm_core.domain.ranges import Range, default_range, numeric, parse_range
from lstm_core.domain.search_history import Dimension, SearchHistory, SearchState, SearchTrial
from lstm_core.domain.searches import BAYESIAN, HALVING_RESOURCES, PRUNERS, SEARCHES, STRATEGIES
from lstm_core.domain.spec import (
    MAX_SEED,
    SCHEDULER_VARIABLE,
    SCORING_NAMES,
    SCORINGS,
    ExperimentSpec,
    ResolvedSpec,
    default_scheduler,
)
from lstm_core.domain.start_settings import FREEZE, INHERITED, SELF_VECTORS
from lstm_core.insight.mlflow_export import MlflowExport
from lstm_core.models.model_zoo import ModelSummary, embedding_rows_note

__all__ = [
    "ARCHITECTURES",
    "ARCHITECTURE_NAMES",
    "BAYESIAN",
    "FREEZE",
    "HALVING_RESOURCES",
    "HYPERPARAMETERS",
    "INHERITED",
    "MAX_NAME_CHARS",
    "MAX_SEED",
    "MAX_NOTE_CHARS",
    "MLFLOW_EXPERIMENT",
    "PRUNERS",
    "SCHEDULER_VARIABLE",
    "SCORINGS",
    "SCORING_NAMES",
    "SEARCHES",
    "STRATEGIES",
    "SELF_VECTORS",
    "SPEC_DEFAULTS",
    "CalibrationBin",
    "CandidateResult",
    "ClassScores",
    "ClusterInfo",
    "ClusterView",
    "Dataset",
    "Dimension",
    "Engine",
    "Epoch",
    "Estimate",
    "Evaluation",
    "ExperimentSpec",
    "ResolvedSpec",
    "Explanation",
    "GateTrace",
    "HeldOutText",
    "LabelledText",
    "LengthProfile",
    "LengthSlice",
    "MarkupShare",
    "MlflowExport",
    "ModelCard",
    "ModelSummary",
    "Progress",
    "Range",
    "Reading",
    "RepeatSummary",
    "RepeatedTexts",
    "Run",
    "RunResult",
    "RunStatus",
    "SearchHistory",
    "SearchState",
    "SearchTrial",
    "TestPrediction",
    "TextFile",
    "ThresholdMetrics",
    "Trial",
    "TrialStatus",
    "UserError",
    "VectorsCoverage",
    "WorkerFits",
    "architecture",
    "default_range",
    "default_scheduler",
    "numeric",
    "parse_assignment",
    "parse_range",
    "pruned_candidates",
    "to_plain",
    "show_value",
    "embedding_rows_note",
    "candidate_labels",
]


class Engine(RunsFacet, ModelsFacet, InsightFacet, DatasetsFacet, ClusterFacet):
    """Everything the workbench does, over one workspace folder (`$LSTM_CORE_HOME` by
    default): each facet's methods, on one object that keeps its caches."""

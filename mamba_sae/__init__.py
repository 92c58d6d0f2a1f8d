"""mamba_sae: sparse-feature circuits in Mamba language models.

The main API is importable from the package (`from mamba_sae import HookedMamba, attribute`); each
name loads its stage module on first use, so `import mamba_sae` (and `mamba-sae --help`) stays fast.
Hand-written, not exported from a notebook; the names are checked by nbs/index.ipynb.
"""
__version__ = "0.0.1"

_API = {
    'mamba_sae.hooks': ['HookPoint', 'HookedRootModule', 'ActivationCache', 'get_act_name'],
    'mamba_sae.sites': ['site', 'layer_of', 'layer_sites', 'check_sites', 'check_saes', 'Feature', 'Edge',
                        'layer_edges'],
    'mamba_sae.model': ['HookedMamba', 'MambaConfig', 'resolve_device'],
    'mamba_sae.data': ['PatchingDataset', 'ioi_dataset', 'copy_dataset', 'induction_dataset', 'task_dataset',
                       'text_corpus', 'logit_diff', 'normalized_logit_diff', 'accuracy'],
    'mamba_sae.tiny': ['load_tiny', 'tiny_corpus', 'train_tiny'],
    'mamba_sae.sae': ['TopKSAE'],
    'mamba_sae.load': ['load_model', 'load_saes', 'load_tiny_saes', 'load_model_and_saes', 'text_tokens'],
    'mamba_sae.train': ['TrainConfig', 'train_saes'],
    'mamba_sae.evals': ['evaluate_saes'],
    'mamba_sae.attribution': ['splice', 'attribute', 'Attribution', 'plot_attribution'],
    'mamba_sae.search': ['rank_features', 'evaluate_set', 'find_circuit', 'faithfulness', 'faithfulness_curve',
                         'plot_faithfulness', 'ablation_study', 'run_method', 'Circuit', 'CircuitRun', 'Patcher'],
    'mamba_sae.features': ['top_activations', 'copy_scores', 'induction_scores'],
    'mamba_sae.dashboards': ['feature_dashboard', 'save_dashboards', 'FeatureBrowser'],
    'mamba_sae.patching': ['resample_ablation', 'path_patching', 'edge_scores', 'acdc', 'token_movement'],
    'mamba_sae.demo': ['run_demo'],
}
_HOME = {name: mod for mod, names in _API.items() for name in names}
__all__ = sorted(_HOME)

def __getattr__(name):
    if name not in _HOME: raise AttributeError(f"module 'mamba_sae' has no attribute {name!r}")
    import importlib
    value = getattr(importlib.import_module(_HOME[name]), name)
    globals()[name] = value
    return value

def __dir__(): return sorted([*globals(), *__all__])

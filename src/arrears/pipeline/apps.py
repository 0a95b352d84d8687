from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PipelineConfig(AppConfig):
    """No models: the daily run and its command (``arrears run_daily``)."""

    name = "arrears.pipeline"
    label = "pipeline"
    verbose_name = _("日批")

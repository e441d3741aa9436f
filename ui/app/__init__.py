"""The Gradio web app: `build_app()` (layout and events) is separate from `launch()` (serving)."""

from .build import build_app, launch, launch_options

__all__ = ["build_app", "launch", "launch_options"]

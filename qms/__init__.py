"""mentor-qms: a quality management system for mentor programmes."""

__version__ = "0.1.0"

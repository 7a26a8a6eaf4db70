from . import test_calibration, test_lifecycle, test_roles, test_tour

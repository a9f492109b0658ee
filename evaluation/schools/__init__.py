"""School reports: one page per school of a performance-table file (data, peers, result)."""

from evaluation.schools.data import SchoolData, load_schools
from evaluation.schools.result import SchoolResult, evaluate_school
from evaluation.schools.similar import SimilarSchools, similar_schools

__all__ = ["SchoolData", "SchoolResult", "SimilarSchools", "evaluate_school", "load_schools",
           "similar_schools"]

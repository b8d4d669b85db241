// PEFTMethods
